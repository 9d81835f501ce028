#include "cmd/trellis/progress.h"

#include <unistd.h>

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace trellis::cli {
namespace {

enum class Mode { kAuto, kAlways, kNever };

Mode& CurrentMode() {
  static Mode mode = Mode::kAuto;
  return mode;
}

// 1234 -> "1234", 123456 -> "123.5k", 12345678 -> "12.3M".
std::string Count(double n) {
  if (n >= 1e6) return absl::StrFormat("%.1fM", n / 1e6);
  if (n >= 1e5) return absl::StrFormat("%.1fk", n / 1e3);
  return absl::StrFormat("%.0f", n);
}

std::string Seconds(absl::Duration d) {
  const double s = absl::ToDoubleSeconds(d);
  if (s < 60) return absl::StrFormat("%.1fs", s);
  return absl::StrFormat("%dm%02ds", static_cast<int>(s) / 60,
                         static_cast<int>(s) % 60);
}

}  // namespace

absl::Status SetProgressMode(const std::string& mode) {
  if (mode == "auto") {
    CurrentMode() = Mode::kAuto;
  } else if (mode == "always") {
    CurrentMode() = Mode::kAlways;
  } else if (mode == "never") {
    CurrentMode() = Mode::kNever;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("--progress=", mode, ": use auto, always or never"));
  }
  return absl::OkStatus();
}

bool ProgressShown() {
  switch (CurrentMode()) {
    case Mode::kAlways:
      return true;
    case Mode::kNever:
      return false;
    case Mode::kAuto:
      break;
  }
  return isatty(STDERR_FILENO) != 0;
}

Progress::Progress(std::string label, uint64_t total, std::string unit,
                   bool shown, std::FILE* out, Clock clock)
    : label_(std::move(label)),
      total_(total),
      unit_(std::move(unit)),
      shown_(shown),
      out_(out),
      clock_(std::move(clock)),
      start_(clock_()) {}

Progress::~Progress() { Finish(); }

void Progress::Set(uint64_t done) {
  done_ = total_ > 0 ? std::min(done, total_) : done;
  if (!shown_) return;
  const absl::Time now = clock_();
  if (now - last_draw_ < absl::Milliseconds(100)) return;
  last_draw_ = now;
  Draw(/*final=*/false);
}

void Progress::Finish() {
  if (finished_) return;
  finished_ = true;
  if (shown_) Draw(/*final=*/true);
}

void Progress::Draw(bool final) {
  const absl::Duration elapsed = clock_() - start_;
  const double seconds = std::max(absl::ToDoubleSeconds(elapsed), 1e-3);
  const double rate = static_cast<double>(done_) / seconds;
  std::string line = absl::StrCat(label_, " ");
  if (total_ > 0) {
    constexpr int kWidth = 24;
    const int filled =
        static_cast<int>(kWidth * static_cast<double>(done_) / total_);
    absl::StrAppend(&line, "[", std::string(filled, '#'),
                    std::string(kWidth - filled, '.'), "] ",
                    done_ * 100 / total_, "% ", done_, "/", total_, " ", unit_);
  } else {
    absl::StrAppend(&line, done_, " ", unit_);
  }
  if (final) {
    absl::StrAppend(&line, " in ", Seconds(elapsed), " (", Count(rate), "/s)");
  } else {
    absl::StrAppend(&line, "  ", Count(rate), "/s");
    if (total_ > 0 && done_ > 0 && done_ < total_) {
      absl::StrAppend(
          &line, "  ETA ",
          Seconds(absl::Seconds(static_cast<double>(total_ - done_) / rate)));
    }
  }
  // Blank out what a longer previous line left behind.
  const size_t width = line.size();
  if (width < last_width_) line.append(last_width_ - width, ' ');
  last_width_ = width;
  std::fprintf(out_, "\r%s%s", line.c_str(), final ? "\n" : "");
  std::fflush(out_);
}

}  // namespace trellis::cli
