#include "tlog/proof.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace trellis::tlog {
namespace {

constexpr size_t kHashBytes = 32;

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("tlog-proof: ", why));
}

bool NextLine(absl::string_view* rest, absl::string_view* line) {
  const size_t end = rest->find('\n');
  if (end == absl::string_view::npos) return false;
  *line = rest->substr(0, end);
  rest->remove_prefix(end + 1);
  return true;
}

// Canonical base64 only: one text per value.
bool Base64(absl::string_view text, std::string* out) {
  return absl::Base64Unescape(text, out) && absl::Base64Escape(*out) == text;
}

}  // namespace

absl::StatusOr<std::string> FormatTlogProof(const TlogProof& proof) {
  if (proof.hashes.size() > kMaxInclusionProofHashes) {
    return Invalid("too many proof hashes");
  }
  std::string text = absl::StrCat(kTlogProofHeader, "\n");
  if (proof.extra.has_value()) {
    absl::StrAppend(&text, "extra ", absl::Base64Escape(*proof.extra), "\n");
  }
  absl::StrAppend(&text, "index ", proof.index, "\n");
  for (const std::string& hash : proof.hashes) {
    if (hash.size() != kHashBytes) return Invalid("a hash is not 32 bytes");
    absl::StrAppend(&text, absl::Base64Escape(hash), "\n");
  }
  absl::StrAppend(&text, "\n", proof.checkpoint_note);
  return text;
}

absl::StatusOr<TlogProof> ParseTlogProof(absl::string_view text) {
  TlogProof proof;
  absl::string_view line;
  if (!NextLine(&text, &line) || line != kTlogProofHeader) {
    return Invalid(absl::StrCat("the first line is not ", kTlogProofHeader));
  }
  if (!NextLine(&text, &line)) return Invalid("no index line");
  if (absl::ConsumePrefix(&line, "extra ")) {
    std::string extra;
    if (!Base64(line, &extra)) return Invalid("extra is not base64");
    proof.extra = std::move(extra);
    if (!NextLine(&text, &line)) return Invalid("no index line");
  }
  if (!absl::ConsumePrefix(&line, "index ") || line.empty() ||
      (line.size() > 1 && line[0] == '0') ||
      line.find_first_not_of("0123456789") != absl::string_view::npos ||
      !absl::SimpleAtoi(line, &proof.index)) {
    return Invalid("the index line is not \"index <decimal>\"");
  }
  while (true) {
    if (!NextLine(&text, &line)) return Invalid("no empty line");
    if (line.empty()) break;
    if (proof.hashes.size() == kMaxInclusionProofHashes) {
      return Invalid("too many proof hashes");
    }
    std::string hash;
    if (!Base64(line, &hash) || hash.size() != kHashBytes) {
      return Invalid("a proof line is not base64 of 32 bytes");
    }
    proof.hashes.push_back(std::move(hash));
  }
  if (text.empty()) return Invalid("no checkpoint");
  proof.checkpoint_note = std::string(text);
  return proof;
}

}  // namespace trellis::tlog
