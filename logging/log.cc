#include "logging/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"

namespace trellis::logging {
namespace {

std::atomic<int> min_level{static_cast<int>(Level::kInfo)};
std::atomic<int> line_format{static_cast<int>(Format::kText)};

// The output: a file descriptor written whole per line under the lock.
absl::Mutex output_mu(absl::kConstInit);
int output_fd ABSL_GUARDED_BY(output_mu) = STDERR_FILENO;
std::string output_file ABSL_GUARDED_BY(output_mu);

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

// A text value, quoted when it has spaces, quotes or control characters.
std::string TextValue(absl::string_view value) {
  bool plain = !value.empty();
  for (const unsigned char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == 0x7f) plain = false;
  }
  if (plain) return std::string(value);
  // JSON string escaping is a clear, unambiguous quoting.
  return nlohmann::json(std::string(value))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

absl::StatusOr<Level> ParseLevel(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "debug") return Level::kDebug;
  if (lower == "info") return Level::kInfo;
  if (lower == "warning" || lower == "warn") return Level::kWarning;
  if (lower == "error") return Level::kError;
  return absl::InvalidArgumentError(absl::StrCat(
      "log level \"", text, "\": use debug, info, warning or error"));
}

absl::StatusOr<Format> ParseFormat(absl::string_view text) {
  const std::string lower = absl::AsciiStrToLower(text);
  if (lower == "text") return Format::kText;
  if (lower == "json") return Format::kJson;
  return absl::InvalidArgumentError(
      absl::StrCat("log format \"", text, "\": use text or json"));
}

namespace {

absl::StatusOr<int> OpenLogFile(const std::string& file) {
  if (file.empty()) return STDERR_FILENO;
  const int fd =
      open(file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW,
           0600);
  if (fd < 0) {
    return absl::UnavailableError(
        absl::StrCat("log file ", file, ": ", strerror(errno)));
  }
  return fd;
}

}  // namespace

absl::Status Configure(const Options& options) {
  absl::StatusOr<int> fd = OpenLogFile(options.file);
  if (!fd.ok()) return fd.status();
  absl::MutexLock lock(&output_mu);
  if (output_fd != STDERR_FILENO) close(output_fd);
  output_fd = *fd;
  output_file = options.file;
  min_level.store(static_cast<int>(options.level));
  line_format.store(static_cast<int>(options.format));
  return absl::OkStatus();
}

absl::Status ConfigureFromText(absl::string_view level,
                               absl::string_view format,
                               const std::string& file) {
  absl::StatusOr<Level> parsed_level = ParseLevel(level);
  if (!parsed_level.ok()) return parsed_level.status();
  absl::StatusOr<Format> parsed_format = ParseFormat(format);
  if (!parsed_format.ok()) return parsed_format.status();
  return Configure({*parsed_level, *parsed_format, file});
}

absl::Status Reopen() {
  absl::MutexLock lock(&output_mu);
  if (output_file.empty()) return absl::OkStatus();
  absl::StatusOr<int> fd = OpenLogFile(output_file);
  if (!fd.ok()) return fd.status();  // Lines keep going to the old file.
  close(output_fd);
  output_fd = *fd;
  return absl::OkStatus();
}

bool Enabled(Level level) {
  return static_cast<int>(level) >= min_level.load(std::memory_order_relaxed);
}

std::string FormatLine(absl::Time time, Level level,
                       absl::string_view component, absl::string_view message,
                       Fields fields, Format format) {
  const std::string when =
      absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());
  if (format == Format::kJson) {
    nlohmann::ordered_json line = {{"time", when},
                                   {"level", std::string(LevelName(level))},
                                   {"component", std::string(component)},
                                   {"msg", std::string(message)}};
    for (const auto& [key, value] : fields) {
      if (!value.empty()) line[std::string(key)] = std::string(value);
    }
    // Invalid UTF-8 (say, from a client) is replaced, never thrown on.
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string line =
      absl::StrCat(when, " ", LevelName(level), " ", component, ": ", message);
  for (const auto& [key, value] : fields) {
    if (!value.empty()) absl::StrAppend(&line, " ", key, "=", TextValue(value));
  }
  // One event, one line.
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return line;
}

void Log(Level level, absl::string_view component, absl::string_view message,
         Fields fields) {
  if (!Enabled(level)) return;
  const std::string line =
      FormatLine(absl::Now(), level, component, message, fields,
                 static_cast<Format>(line_format.load())) +
      "\n";
  absl::MutexLock lock(&output_mu);
  size_t written = 0;
  while (written < line.size()) {
    const ssize_t n =
        write(output_fd, line.data() + written, line.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // Nowhere to report a failing log.
    written += static_cast<size_t>(n);
  }
}

}  // namespace trellis::logging
