#include "log/witness_collector.h"

#include <future>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "httplib.h"
#include "tlog/note.h"
#include "tlog/witness_protocol.h"

namespace trellis::log {
namespace {

// Replies beyond this are not cosignature lines.
constexpr size_t kMaxReplyBytes = 64 << 10;

// "scheme://host[:port]" and the path after it (no trailing '/').
absl::StatusOr<std::pair<std::string, std::string>> SplitUrl(
    absl::string_view url) {
  if (!absl::StartsWith(url, "http://") && !absl::StartsWith(url, "https://")) {
    return absl::InvalidArgumentError("witness URL is not http(s)://");
  }
  const size_t host = url.find("://") + 3;
  const size_t path = url.find('/', host);
  absl::string_view rest =
      path == absl::string_view::npos ? "" : url.substr(path);
  absl::ConsumeSuffix(&rest, "/");
  return std::make_pair(std::string(url.substr(0, path)), std::string(rest));
}

}  // namespace

Cosignatures WitnessCollector::Collect(int64_t tree_id,
                                       const tlog::WitnessPolicy& policy,
                                       const std::string& note, uint64_t size) {
  std::vector<std::pair<const tlog::PolicyWitness*,
                        std::future<absl::StatusOr<std::vector<std::string>>>>>
      pending;
  for (const tlog::PolicyWitness& witness : policy.witnesses()) {
    if (witness.url.empty()) continue;  // Cosigns by other means, if at all.
    pending.emplace_back(&witness,
                         std::async(std::launch::async, [&, w = &witness] {
                           return CollectOne(tree_id, *w, note, size);
                         }));
  }
  Cosignatures out;
  for (auto& [witness, future] : pending) {
    absl::StatusOr<std::vector<std::string>> lines = future.get();
    if (!lines.ok()) {
      out.failures.push_back(
          absl::StrCat(witness->name, ": ", lines.status().message()));
      continue;
    }
    out.lines.insert(out.lines.end(), lines->begin(), lines->end());
    out.witnesses.insert(witness->name);
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> WitnessCollector::CollectOne(
    int64_t tree_id, const tlog::PolicyWitness& witness,
    const std::string& note, uint64_t size) {
  const std::pair<int64_t, std::string> key(tree_id, witness.name);
  uint64_t old_size = 0;
  {
    absl::MutexLock lock(&mu_);
    auto it = sizes_.find(key);
    if (it != sizes_.end()) old_size = it->second;
  }
  if (old_size > size) old_size = 0;  // Learn its size again.
  uint64_t witness_size = 0;
  absl::StatusOr<std::vector<std::string>> lines =
      Send(tree_id, witness, note, old_size, size, &witness_size);
  if (absl::IsAborted(lines.status())) {
    if (witness_size > size) {
      return absl::FailedPreconditionError(
          absl::StrCat("the witness has cosigned ", witness_size,
                       " leaves, more than this log has"));
    }
    lines = Send(tree_id, witness, note, witness_size, size, &witness_size);
  }
  if (lines.ok()) {
    absl::MutexLock lock(&mu_);
    sizes_[key] = size;
  }
  return lines;
}

absl::StatusOr<std::vector<std::string>> WitnessCollector::Send(
    int64_t tree_id, const tlog::PolicyWitness& witness,
    const std::string& note, uint64_t old_size, uint64_t size,
    uint64_t* witness_size) {
  tlog::AddCheckpointRequest request;
  request.old_size = old_size;
  request.checkpoint_note = note;
  if (old_size > 0 && old_size < size) {
    absl::StatusOr<std::vector<std::string>> proof =
        prover_(tree_id, old_size, size);
    if (!proof.ok()) return proof.status();
    request.proof = std::move(*proof);
  }
  absl::StatusOr<std::string> body = tlog::FormatAddCheckpointRequest(request);
  if (!body.ok()) return body.status();
  absl::StatusOr<std::pair<std::string, std::string>> url =
      SplitUrl(witness.url);
  if (!url.ok()) return url.status();

  httplib::Client client(url->first);
  const int64_t micros = absl::ToInt64Microseconds(timeout_);
  client.set_connection_timeout(micros / 1000000, micros % 1000000);
  client.set_read_timeout(micros / 1000000, micros % 1000000);
  client.set_write_timeout(micros / 1000000, micros % 1000000);
  client.enable_server_certificate_verification(true);
  httplib::Result reply =
      client.Post(url->second + "/add-checkpoint", *body, "text/plain");
  if (!reply) {
    return absl::UnavailableError(
        absl::StrCat("POST ", witness.url,
                     "/add-checkpoint: ", httplib::to_string(reply.error())));
  }
  if (reply->body.size() > kMaxReplyBytes) {
    return absl::UnavailableError("the reply is too long");
  }
  switch (reply->status) {
    case 200:
      break;
    case 409: {
      if (reply->get_header_value("Content-Type") !=
          tlog::kTlogSizeContentType) {
        return absl::UnavailableError("409 without a text/x.tlog.size body");
      }
      absl::StatusOr<uint64_t> known = tlog::ParseTlogSize(reply->body);
      if (!known.ok()) return known.status();
      *witness_size = *known;
      return absl::AbortedError(absl::StrCat("the witness has ", *known));
    }
    case 422:
      return absl::FailedPreconditionError(absl::StrCat(
          "422: the witness refuses this checkpoint as inconsistent with "
          "what it cosigned (a fork?): ",
          absl::StripAsciiWhitespace(reply->body)));
    default:
      return absl::UnavailableError(
          absl::StrCat(reply->status, ": ",
                       absl::StripAsciiWhitespace(reply->body.substr(0, 200))));
  }
  // Only lines that verify under this witness's key count.
  std::vector<std::string> lines;
  for (absl::string_view line : absl::StrSplit(reply->body, '\n')) {
    if (line.empty()) continue;
    const std::string with_newline = absl::StrCat(line, "\n");
    absl::StatusOr<tlog::Note> cosigned =
        tlog::ParseNote(absl::StrCat(note, with_newline));
    if (!cosigned.ok()) continue;
    if (tlog::VerifyNote(*cosigned, {witness.key}).ok() &&
        cosigned->signatures.back().name == witness.key.name &&
        cosigned->signatures.back().id == witness.key.id) {
      lines.push_back(with_newline);
    }
  }
  if (lines.empty()) {
    return absl::UnavailableError("no cosignature that verifies");
  }
  return lines;
}

}  // namespace trellis::log
