// Storage of Trellis as a tlog-witness: per log origin, the latest
// checkpoint it cosigned, and the witness's wrapped signing key. Writes are
// durable when they return; methods are safe to call concurrently (callers
// serialise their own check-then-write sequences).
#ifndef TRELLIS_STORAGE_WITNESS_STORAGE_H_
#define TRELLIS_STORAGE_WITNESS_STORAGE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::storage {

struct WitnessedCheckpoint {
  uint64_t size = 0;
  std::string root_hash;
  std::string note;  // As submitted, for evidence of what the log signed.
};

class WitnessStorage {
 public:
  virtual ~WitnessStorage() = default;

  // The latest cosigned checkpoint of `origin`, or nullopt if none.
  virtual absl::StatusOr<std::optional<WitnessedCheckpoint>> GetCheckpoint(
      absl::string_view origin) = 0;
  virtual absl::Status PutCheckpoint(absl::string_view origin,
                                     const WitnessedCheckpoint& checkpoint) = 0;

  // The witness key named `name`, wrapped; NOT_FOUND if none.
  virtual absl::StatusOr<std::string> GetWrappedKey(absl::string_view name) = 0;
  // ALREADY_EXISTS if `name` has one.
  virtual absl::Status AddWrappedKey(absl::string_view name,
                                     absl::string_view wrapped) = 0;
};

}  // namespace trellis::storage

#endif  // TRELLIS_STORAGE_WITNESS_STORAGE_H_
