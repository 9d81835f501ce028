// The messages between trellisd and its Rego sandbox workers: a frame is a
// 32-bit big-endian length, then its fields, each a 32-bit big-endian length
// and its bytes.
#ifndef TRELLIS_POLICY_FRAMES_H_
#define TRELLIS_POLICY_FRAMES_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace trellis::policy {

// Frames larger than this are refused on both ends.
inline constexpr size_t kMaxFrameBytes = 64 << 20;

// Writes `fields` as one frame to the stream socket `fd` (a closed peer is
// an error, not SIGPIPE).
absl::Status WriteFrame(int fd, const std::vector<absl::string_view>& fields);

// Reads one frame from `fd`. DEADLINE_EXCEEDED if it has not arrived by
// `deadline`, UNAVAILABLE if the peer closed, DATA_LOSS if it is malformed.
absl::StatusOr<std::vector<std::string>> ReadFrame(
    int fd, absl::Time deadline = absl::InfiniteFuture());

}  // namespace trellis::policy

#endif  // TRELLIS_POLICY_FRAMES_H_
