// The body of a C2SP tlog-witness add-checkpoint request
// (https://c2sp.org/tlog-witness): "old <size>" line, up to 63 consistency
// proof hashes in base64, one per line, an empty line, then the signed
// checkpoint note.
#ifndef TRELLIS_TLOG_WITNESS_PROTOCOL_H_
#define TRELLIS_TLOG_WITNESS_PROTOCOL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::tlog {

inline constexpr size_t kMaxConsistencyProofHashes = 63;
// The Content-Type of a 409 answer, whose body is the witness's size.
inline constexpr char kTlogSizeContentType[] = "text/x.tlog.size";

struct AddCheckpointRequest {
  uint64_t old_size = 0;
  std::vector<std::string> proof;  // 32-byte hashes.
  std::string checkpoint_note;
};

// INVALID_ARGUMENT for more than 63 hashes or a hash that is not 32 bytes.
absl::StatusOr<std::string> FormatAddCheckpointRequest(
    const AddCheckpointRequest& request);

// Strict: a decimal without leading zeros, canonical base64 of 32 bytes per
// proof line, at most 63 of them. INVALID_ARGUMENT otherwise. The note is
// returned as sent (not parsed).
absl::StatusOr<AddCheckpointRequest> ParseAddCheckpointRequest(
    absl::string_view body);

// A witness's submission prefix split into "scheme://host[:port]" and the
// path after it (without a trailing '/'). INVALID_ARGUMENT unless it is an
// http:// or https:// URL with a host and no whitespace or control bytes.
struct SubmissionPrefix {
  std::string origin;  // scheme://host[:port]
  std::string path;
};
absl::StatusOr<SubmissionPrefix> ParseSubmissionPrefix(absl::string_view url);

// "<size>\n", the body of a 409 answer, and its inverse.
std::string FormatTlogSize(uint64_t size);
absl::StatusOr<uint64_t> ParseTlogSize(absl::string_view body);

}  // namespace trellis::tlog

#endif  // TRELLIS_TLOG_WITNESS_PROTOCOL_H_
