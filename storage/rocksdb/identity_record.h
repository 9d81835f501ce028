// The value of a log identity record ('i' keys in the index family, keyed
// by the first 8 bytes of SHA-256 of an identity hash): where each leaf
// whose identity hash gives that key is. Usually one position; more when
// keys collide, so a reader confirms the whole hash against the leaf it
// finds.
//
// Positions, concatenated, each a tag and varints:
//   'L' index                a leaf at its index (integrated, or for
//                            PREORDERED_LOG stored at it)
//   'B' seq offset           the offset-th leaf of queue record seq ('m'
//                            forwards it to an index once integrated)
//   'Q' seq                  a per-leaf queue record of older versions
#ifndef TRELLIS_STORAGE_ROCKSDB_IDENTITY_RECORD_H_
#define TRELLIS_STORAGE_ROCKSDB_IDENTITY_RECORD_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::storage::rocksdb {

// How many bytes of SHA-256 of an identity hash its record's key keeps.
inline constexpr size_t kIdentityKeyBytes = 8;

struct LeafPosition {
  enum class Kind : char {
    kIndex = 'L',
    kQueued = 'B',
    kLegacyQueued = 'Q',
  };
  Kind kind = Kind::kIndex;
  uint64_t n = 0;       // Index, or queue record sequence number.
  uint64_t offset = 0;  // In the queue record (kQueued).
};

void AppendPosition(const LeafPosition& position, std::string* record);

// DATA_LOSS if the record is empty or malformed.
absl::StatusOr<std::vector<LeafPosition>> DecodePositions(
    absl::string_view record);

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_IDENTITY_RECORD_H_
