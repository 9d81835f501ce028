#include "tlog/witness_protocol.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tlog/text.h"

namespace trellis::tlog {
namespace {

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("add-checkpoint: ", why));
}

}  // namespace

absl::StatusOr<std::string> FormatAddCheckpointRequest(
    const AddCheckpointRequest& request) {
  std::string body = absl::StrCat("old ", request.old_size, "\n");
  if (absl::Status s =
          AppendHashLines(request.proof, kMaxConsistencyProofHashes, &body);
      !s.ok()) {
    return Invalid(s.message());
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
  if (absl::Status s = ParseHashLines(&body, kMaxConsistencyProofHashes,
                                      "add-checkpoint", &request.proof);
      !s.ok()) {
    return s;
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
