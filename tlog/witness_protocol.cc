#include "tlog/witness_protocol.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace trellis::tlog {
namespace {

constexpr size_t kHashBytes = 32;

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("add-checkpoint: ", why));
}

// A decimal without leading zeros ("0" alone is fine).
bool ParseDecimal(absl::string_view text, uint64_t* value) {
  return !text.empty() && (text.size() == 1 || text[0] != '0') &&
         text.find_first_not_of("0123456789") == absl::string_view::npos &&
         absl::SimpleAtoi(text, value);
}

// The next '\n'-terminated line of `rest` (without the newline), consumed.
bool NextLine(absl::string_view* rest, absl::string_view* line) {
  const size_t end = rest->find('\n');
  if (end == absl::string_view::npos) return false;
  *line = rest->substr(0, end);
  rest->remove_prefix(end + 1);
  return true;
}

}  // namespace

absl::StatusOr<std::string> FormatAddCheckpointRequest(
    const AddCheckpointRequest& request) {
  if (request.proof.size() > kMaxConsistencyProofHashes) {
    return Invalid("more than 63 proof hashes");
  }
  std::string body = absl::StrCat("old ", request.old_size, "\n");
  for (const std::string& hash : request.proof) {
    if (hash.size() != kHashBytes) return Invalid("a hash is not 32 bytes");
    absl::StrAppend(&body, absl::Base64Escape(hash), "\n");
  }
  absl::StrAppend(&body, "\n", request.checkpoint_note);
  return body;
}

absl::StatusOr<AddCheckpointRequest> ParseAddCheckpointRequest(
    absl::string_view body) {
  AddCheckpointRequest request;
  absl::string_view line;
  if (!NextLine(&body, &line) || !absl::ConsumePrefix(&line, "old ") ||
      !ParseDecimal(line, &request.old_size)) {
    return Invalid("the first line is not \"old <size>\"");
  }
  while (true) {
    if (!NextLine(&body, &line)) return Invalid("no empty line");
    if (line.empty()) break;
    if (request.proof.size() == kMaxConsistencyProofHashes) {
      return Invalid("more than 63 proof hashes");
    }
    std::string hash;
    if (!absl::Base64Unescape(line, &hash) || hash.size() != kHashBytes ||
        absl::Base64Escape(hash) != line) {
      return Invalid("a proof line is not base64 of 32 bytes");
    }
    request.proof.push_back(std::move(hash));
  }
  if (body.empty()) return Invalid("no checkpoint");
  request.checkpoint_note = std::string(body);
  return request;
}

absl::StatusOr<SubmissionPrefix> ParseSubmissionPrefix(absl::string_view url) {
  absl::string_view rest = url;
  if (!absl::ConsumePrefix(&rest, "http://") &&
      !absl::ConsumePrefix(&rest, "https://")) {
    return absl::InvalidArgumentError(
        absl::StrCat("witness URL \"", url, "\" is not http(s)://"));
  }
  for (unsigned char c : url) {
    if (c <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError("witness URL has a space or control");
    }
  }
  const size_t slash = rest.find('/');
  const absl::string_view host = rest.substr(0, slash);
  if (host.empty() || host.front() == ':') {
    return absl::InvalidArgumentError(
        absl::StrCat("witness URL \"", url, "\" has no host"));
  }
  SubmissionPrefix prefix;
  prefix.origin =
      std::string(url.substr(0, url.size() - rest.size())) + std::string(host);
  absl::string_view path =
      slash == absl::string_view::npos ? "" : rest.substr(slash);
  absl::ConsumeSuffix(&path, "/");
  prefix.path = std::string(path);
  return prefix;
}

std::string FormatTlogSize(uint64_t size) { return absl::StrCat(size, "\n"); }

absl::StatusOr<uint64_t> ParseTlogSize(absl::string_view body) {
  uint64_t size = 0;
  if (!absl::ConsumeSuffix(&body, "\n") || !ParseDecimal(body, &size)) {
    return absl::InvalidArgumentError("not a text/x.tlog.size body");
  }
  return size;
}

}  // namespace trellis::tlog
