#include "tlog/policy.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace trellis::tlog {
namespace {

constexpr char kNone[] = "none";

absl::Status LineError(int line, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("witness policy line ", line, ": ", why));
}

}  // namespace

absl::StatusOr<WitnessPolicy> WitnessPolicy::Parse(absl::string_view text) {
  if (text.size() > kMaxPolicyBytes) {
    return absl::InvalidArgumentError("the witness policy is too large");
  }
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f) {
      return absl::InvalidArgumentError(
          "the witness policy holds a control character");
    }
  }
  WitnessPolicy policy;
  std::set<std::string> names;  // Witnesses and groups share one namespace.
  std::set<std::string> public_keys;
  bool has_quorum = false;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    const std::vector<absl::string_view> words =
        absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (words.empty() || words[0][0] == '#') continue;
    const absl::string_view keyword = words[0];
    if (names.size() + policy.logs_.size() >= 3 * kMaxPolicyEntries) {
      return LineError(number, "too many entries");
    }
    if (keyword == "log" || keyword == "witness") {
      const bool log = keyword == "log";
      const size_t key_at = log ? 1 : 2;
      if (words.size() < key_at + 1 || words.size() > key_at + 2) {
        return LineError(number, log ? "log <vkey> [<url>]"
                                     : "witness <name> <vkey> [<url>]");
      }
      absl::StatusOr<NoteVerifierKey> key = ParseVerifierKey(words[key_at]);
      if (!key.ok()) return LineError(number, key.status().message());
      if (key->type != (log ? kEd25519KeyType : kCosignatureV1KeyType)) {
        return LineError(number, log ? "a log key is an Ed25519 note key"
                                     : "a witness key is a cosignature/v1 key");
      }
      if (!public_keys.insert(key->public_key).second) {
        return LineError(number, "the key is listed twice");
      }
      const std::string url =
          words.size() > key_at + 1 ? std::string(words[key_at + 1]) : "";
      if (log) {
        policy.logs_.push_back({*std::move(key), url});
        continue;
      }
      const std::string name(words[1]);
      if (name == kNone || !names.insert(name).second) {
        return LineError(number, absl::StrCat("the name ", name, " is taken"));
      }
      policy.witnesses_.push_back({name, *std::move(key), url});
    } else if (keyword == "group") {
      if (words.size() < 4) {
        return LineError(number, "group <name> <k|any|all> <member>...");
      }
      const std::string name(words[1]);
      if (name == kNone || names.count(name) > 0) {
        return LineError(number, absl::StrCat("the name ", name, " is taken"));
      }
      Group group;
      group.name = name;
      std::set<std::string> members;
      for (size_t i = 3; i < words.size(); ++i) {
        const std::string member(words[i]);
        if (member == kNone || names.count(member) == 0) {
          return LineError(number,
                           absl::StrCat(member, " is not defined above"));
        }
        if (!members.insert(member).second) {
          return LineError(number, absl::StrCat(member, " is listed twice"));
        }
        group.members.push_back(member);
      }
      const int n = static_cast<int>(group.members.size());
      const absl::string_view k = words[2];
      if (k == "any") {
        group.threshold = 1;
      } else if (k == "all") {
        group.threshold = n;
      } else if (k.find_first_not_of("0123456789") != absl::string_view::npos ||
                 !absl::SimpleAtoi(k, &group.threshold) ||
                 group.threshold < 1 || group.threshold > n) {
        return LineError(number, "the threshold is any, all or 1..n");
      }
      names.insert(name);
      policy.groups_.push_back(std::move(group));
    } else if (keyword == "quorum") {
      if (words.size() != 2) return LineError(number, "quorum <name>");
      if (has_quorum) return LineError(number, "a second quorum line");
      const std::string name(words[1]);
      if (name != kNone && names.count(name) == 0) {
        return LineError(number, absl::StrCat(name, " is not defined above"));
      }
      policy.quorum_ = name;
      has_quorum = true;
    } else {
      return LineError(number, absl::StrCat("unknown keyword ", keyword));
    }
  }
  if (!has_quorum) {
    return absl::InvalidArgumentError("the witness policy has no quorum line");
  }
  return policy;
}

bool WitnessPolicy::QuorumMet(const std::set<std::string>& cosigned) const {
  if (quorum_ == kNone) return true;
  // Groups in definition order, each once: members that are groups are
  // decided before them, and shared subgroups are not evaluated again.
  std::set<std::string> witnessed;
  for (const PolicyWitness& witness : witnesses_) {
    if (cosigned.count(witness.name) > 0) witnessed.insert(witness.name);
  }
  for (const Group& group : groups_) {
    int count = 0;
    for (const std::string& member : group.members) {
      count += witnessed.count(member) > 0 ? 1 : 0;
    }
    if (count >= group.threshold) witnessed.insert(group.name);
  }
  return witnessed.count(quorum_) > 0;
}

absl::StatusOr<VerifiedCheckpoint> WitnessPolicy::Verify(
    absl::string_view note_text) const {
  absl::StatusOr<Note> note = ParseNote(note_text);
  if (!note.ok()) return note.status();
  std::vector<NoteVerifierKey> log_keys;
  for (const PolicyLog& log : logs_) log_keys.push_back(log.key);
  absl::StatusOr<std::vector<VerifiedSignature>> by_log =
      VerifyNote(*note, log_keys);
  if (!by_log.ok()) return by_log.status();
  VerifiedCheckpoint out;
  absl::StatusOr<Checkpoint> checkpoint = ParseCheckpoint(note->text);
  if (!checkpoint.ok()) return checkpoint.status();
  out.checkpoint = *std::move(checkpoint);
  for (const VerifiedSignature& signature : *by_log) {
    if (signature.key.name == out.checkpoint.origin) {
      out.log_key_name = signature.key.name;
    }
  }
  if (out.log_key_name.empty()) {
    return absl::InvalidArgumentError(
        "the checkpoint's origin is not the name of the log key that signed "
        "it");
  }
  std::vector<NoteVerifierKey> witness_keys;
  for (const PolicyWitness& witness : witnesses_) {
    witness_keys.push_back(witness.key);
  }
  absl::StatusOr<std::vector<VerifiedSignature>> by_witnesses =
      VerifyNote(*note, witness_keys);
  if (!by_witnesses.ok() && !absl::IsNotFound(by_witnesses.status())) {
    return by_witnesses.status();
  }
  if (by_witnesses.ok()) {
    for (const VerifiedSignature& signature : *by_witnesses) {
      for (const PolicyWitness& witness : witnesses_) {
        if (witness.key.public_key == signature.key.public_key) {
          out.witnesses.insert(witness.name);
        }
      }
    }
  }
  if (!QuorumMet(out.witnesses)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the checkpoint's cosignatures (", out.witnesses.size(),
                     " witnesses) do not meet the policy's quorum"));
  }
  return out;
}

}  // namespace trellis::tlog
