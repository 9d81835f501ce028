// Whole-file reads and writes that are safe on paths a caller or operator
// may point anywhere: reads refuse anything but a regular file (a FIFO or
// /dev/zero must not hang or exhaust the server) and cap the size; writes of
// secrets create the file with its final mode, never chmod afterwards.
#ifndef TRELLIS_UTIL_FILE_H_
#define TRELLIS_UTIL_FILE_H_

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis {

// Bigger than any key, certificate, policy or evidence file we read.
inline constexpr size_t kMaxFileBytes = 64 << 20;

struct ReadOptions {
  size_t max_bytes = kMaxFileBytes;
  // Refuse a symbolic link as the last path component (O_NOFOLLOW).
  bool no_follow = false;
};

// The contents of the regular file at `path`. NOT_FOUND if it cannot be
// opened, FAILED_PRECONDITION if it is not a regular file, OUT_OF_RANGE if
// it is bigger than `max_bytes`.
absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     ReadOptions options = {});

// Creates `path` with `mode` (O_CREAT|O_EXCL|O_NOFOLLOW: ALREADY_EXISTS if
// anything is there, even a dangling link), writes and fsyncs `bytes`.
absl::Status WriteNewFile(const std::string& path, absl::string_view bytes,
                          int mode = 0600);

// Replaces `path` atomically (a fresh temporary created with `mode`, fsynced,
// renamed over it): readers see the old or the new content, never a part.
absl::Status ReplaceFile(const std::string& path, absl::string_view bytes,
                         int mode = 0600);

}  // namespace trellis

#endif  // TRELLIS_UTIL_FILE_H_
