// Line-level parsing shared by the C2SP text formats (tlog-witness
// requests, tlog-proofs): strict, so that one value has one text.
#ifndef TRELLIS_TLOG_TEXT_H_
#define TRELLIS_TLOG_TEXT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace trellis::tlog {

// Takes the next '\n'-terminated line off `rest` (without the newline);
// false if there is none.
bool NextLine(absl::string_view* rest, absl::string_view* line);

// A decimal without leading zeros ("0" alone is one).
bool ParseDecimal(absl::string_view text, uint64_t* value);

// Canonical base64 only.
bool ParseCanonicalBase64(absl::string_view text, std::string* out);

// Lines of base64 32-byte hashes up to an empty line, all taken off `rest`:
// at most `max` of them. INVALID_ARGUMENT (with `what` in the message)
// otherwise.
absl::Status ParseHashLines(absl::string_view* rest, size_t max,
                            absl::string_view what,
                            std::vector<std::string>* hashes);

// Appends each hash in base64 and a newline; INVALID_ARGUMENT for more
// than `max` hashes or one that is not 32 bytes.
absl::Status AppendHashLines(const std::vector<std::string>& hashes, size_t max,
                             std::string* out);

}  // namespace trellis::tlog

#endif  // TRELLIS_TLOG_TEXT_H_
