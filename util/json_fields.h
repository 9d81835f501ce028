// Typed reads of untrusted JSON. nlohmann's const operator[] on a missing key
// is undefined behaviour and get<T>() on the wrong type throws, so everything
// read from a caller or a server goes through these: absent or mistyped
// fields become INVALID_ARGUMENT naming the field, never a crash.
#ifndef TRELLIS_UTIL_JSON_FIELDS_H_
#define TRELLIS_UTIL_JSON_FIELDS_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace trellis::json_fields {

// The member `name` of `object`, or nullptr when `object` is not an object,
// the member is absent, or it is null.
const nlohmann::json* Find(const nlohmann::json& object,
                           absl::string_view name);

// Required members: INVALID_ARGUMENT when absent, null or of another type.
// A required string must also be non-empty.
absl::StatusOr<std::string> String(const nlohmann::json& object,
                                   absl::string_view name);
absl::StatusOr<double> Number(const nlohmann::json& object,
                              absl::string_view name);
absl::StatusOr<int64_t> Integer(const nlohmann::json& object,
                                absl::string_view name);
absl::StatusOr<uint64_t> Unsigned(const nlohmann::json& object,
                                  absl::string_view name);
// A required string holding standard base64; the decoded bytes.
absl::StatusOr<std::string> Base64(const nlohmann::json& object,
                                   absl::string_view name);

// Optional members: nullopt when absent or null, INVALID_ARGUMENT when of
// another type.
absl::StatusOr<std::optional<std::string>> OptionalString(
    const nlohmann::json& object, absl::string_view name);
absl::StatusOr<std::optional<bool>> OptionalBool(const nlohmann::json& object,
                                                 absl::string_view name);
absl::StatusOr<std::optional<std::string>> OptionalBase64(
    const nlohmann::json& object, absl::string_view name);

// Most nesting of objects and arrays a request may have: serialising or
// copying a value recurses, so deeper input could exhaust the stack.
inline constexpr int kMaxJsonDepth = 64;

// True if `text` nests arrays and objects deeper than `max_depth` (strings
// skipped); a linear scan, run before parsing untrusted JSON.
bool TooDeep(absl::string_view text, int max_depth = kMaxJsonDepth);

// Parses `text` as a JSON object; INVALID_ARGUMENT when it is not one or
// nests deeper than kMaxJsonDepth.
absl::StatusOr<nlohmann::json> ParseObject(absl::string_view text);

}  // namespace trellis::json_fields

#endif  // TRELLIS_UTIL_JSON_FIELDS_H_
