// A progress line for long work (appending a file of leaves, waiting for
// integration, checking a data directory): on stderr, redrawn in place at
// most ten times a second, only when stderr is a terminal unless
// --progress=always (never: never).
#ifndef TRELLIS_CMD_TRELLIS_PROGRESS_H_
#define TRELLIS_CMD_TRELLIS_PROGRESS_H_

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace trellis::cli {

// "auto", "always" or "never".
absl::Status SetProgressMode(const std::string& mode);
// Whether progress lines are drawn (on stderr).
bool ProgressShown();

class Progress {
 public:
  using Clock = std::function<absl::Time()>;

  // `total` 0: unknown (no bar, no ETA). `unit` names what is counted.
  Progress(std::string label, uint64_t total, std::string unit,
           bool shown = ProgressShown(), std::FILE* out = stderr,
           Clock clock = absl::Now);
  ~Progress();  // Finish()es if not yet done.

  void Add(uint64_t n) { Set(done_ + n); }
  void Set(uint64_t done);
  // The last line, kept on the screen: what was done, how long it took.
  void Finish();

 private:
  void Draw(bool final);

  const std::string label_;
  const uint64_t total_;
  const std::string unit_;
  const bool shown_;
  std::FILE* const out_;
  const Clock clock_;
  const absl::Time start_;
  absl::Time last_draw_ = absl::InfinitePast();
  uint64_t done_ = 0;
  size_t last_width_ = 0;
  bool finished_ = false;
};

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_PROGRESS_H_
