// LogRootV1: the tree head a log signs, TLS-encoded as Trillian defines it.
#ifndef TRELLIS_MERKLE_LOG_ROOT_H_
#define TRELLIS_MERKLE_LOG_ROOT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::merkle {

struct LogRootV1 {
  uint64_t tree_size = 0;
  std::string root_hash;
  uint64_t timestamp_nanos = 0;
  // Increases by one with every root the log signs.
  uint64_t revision = 0;
  std::string metadata;

  friend bool operator==(const LogRootV1& a, const LogRootV1& b) {
    return a.tree_size == b.tree_size && a.root_hash == b.root_hash &&
           a.timestamp_nanos == b.timestamp_nanos && a.revision == b.revision &&
           a.metadata == b.metadata;
  }
};

// Longest root_hash and metadata a LogRootV1 encodes.
inline constexpr size_t kMaxRootHashBytes = 128;
inline constexpr size_t kMaxRootMetadataBytes = 65535;

// uint16 version=1 | uint64 tree_size | opaque root_hash<0..128> |
// uint64 timestamp_nanos | uint64 revision | opaque metadata<0..65535>.
// INVALID_ARGUMENT if root_hash or metadata are too long.
absl::StatusOr<std::string> SerializeLogRoot(const LogRootV1& root);

// Strict inverse of SerializeLogRoot: wrong version, truncation or trailing
// bytes are INVALID_ARGUMENT.
absl::StatusOr<LogRootV1> ParseLogRoot(absl::string_view bytes);

}  // namespace trellis::merkle

#endif  // TRELLIS_MERKLE_LOG_ROOT_H_
