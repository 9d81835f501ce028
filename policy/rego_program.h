// What evaluating a compiled Rego policy looks like to its callers, whether
// it runs in this process (policies Trellis ships) or in a sandbox worker
// (policies users upload).
#ifndef TRELLIS_POLICY_REGO_PROGRAM_H_
#define TRELLIS_POLICY_REGO_PROGRAM_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::policy {

// The largest result a policy may produce, as JSON (GTA's cap).
inline constexpr size_t kMaxResultBytes = 500 << 10;

class RegoProgram {
 public:
  virtual ~RegoProgram() = default;

  // `query` (e.g. "data.verification.result") with `input_json` as input:
  // the value as JSON, or nullopt if it is undefined. INVALID_ARGUMENT for a
  // compile or evaluation error, malformed input, or a result larger than
  // `max_result_bytes`. Thread-safe.
  virtual absl::StatusOr<std::optional<std::string>> Evaluate(
      absl::string_view query, absl::string_view input_json,
      size_t max_result_bytes = kMaxResultBytes) const = 0;
};

}  // namespace trellis::policy

#endif  // TRELLIS_POLICY_REGO_PROGRAM_H_
