// Trellis's programs' log: one line per event on stderr (or a file), as
// text or as JSON lines, at a minimum level. Each line names the component
// and carries key-value fields (the tree, host or SPIFFE ID it concerns), so
// operators can filter by them. Never log secrets: tokens, keys, API keys
// and request bodies stay out of messages and fields.
#ifndef TRELLIS_LOGGING_LOG_H_
#define TRELLIS_LOGGING_LOG_H_

#include <initializer_list>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace trellis::logging {

enum class Level { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };
enum class Format { kText, kJson };

struct Options {
  Level level = Level::kInfo;
  Format format = Format::kText;
  // Appended to (created 0600); empty: stderr.
  std::string file;
};

// "debug", "info", "warning" (or "warn"), "error", case-insensitive.
absl::StatusOr<Level> ParseLevel(absl::string_view text);
// "text" or "json".
absl::StatusOr<Format> ParseFormat(absl::string_view text);

// Sets where and how lines go from now on; INVALID_ARGUMENT / UNAVAILABLE
// if the file cannot be opened (the previous setting stays).
absl::Status Configure(const Options& options);

// Configure from the text forms of flags and configuration keys (as
// ParseLevel and ParseFormat take them).
absl::Status ConfigureFromText(absl::string_view level,
                               absl::string_view format,
                               const std::string& file);

// Opens the log file again by its name (after logrotate moved it away:
// programs call it on SIGHUP); nothing for stderr. On failure lines keep
// going to the old file.
absl::Status Reopen();

// Whether a line at `level` would be written (check before building costly
// fields).
bool Enabled(Level level);

using Fields =
    std::initializer_list<std::pair<absl::string_view, absl::string_view>>;

// Writes one line, whole (concurrent lines never interleave). Fields with
// empty values are left out, so optional ones can be passed as "".
void Log(Level level, absl::string_view component, absl::string_view message,
         Fields fields = {});

inline void Debug(absl::string_view component, absl::string_view message,
                  Fields fields = {}) {
  Log(Level::kDebug, component, message, fields);
}
inline void Info(absl::string_view component, absl::string_view message,
                 Fields fields = {}) {
  Log(Level::kInfo, component, message, fields);
}
inline void Warning(absl::string_view component, absl::string_view message,
                    Fields fields = {}) {
  Log(Level::kWarning, component, message, fields);
}
inline void Error(absl::string_view component, absl::string_view message,
                  Fields fields = {}) {
  Log(Level::kError, component, message, fields);
}

// The line Log writes, without its newline (for tests).
std::string FormatLine(absl::Time time, Level level,
                       absl::string_view component, absl::string_view message,
                       Fields fields, Format format);

}  // namespace trellis::logging

#endif  // TRELLIS_LOGGING_LOG_H_
