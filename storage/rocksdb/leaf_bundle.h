// The integrated leaves of a log, 256 to a bundle, as two records: the
// leaf values as a C2SP tlog-tiles entry bundle (each a big-endian uint16
// length and the bytes), which tiles_http serves as it is, and a sidecar
// with what else Trillian's LogLeaf carries. A leaf's Merkle hash is not
// repeated: it is row 0 of the level-0 tile of the same index.
//
// Sidecar, per leaf, in order (about 5 bytes for a leaf of the default
// identity without extra data):
//   varint: the extra data's length << 6 | flags (kCustomIdentity,
//           kHasQueueTime, kHasIntegrateTime, kValueInSidecar, kWideTimes,
//           kSameIntegrateTime)
//   [32-byte identity hash]            if kCustomIdentity (else the Merkle
//                                       hash is the identity)
//   [varint length, value]             if kValueInSidecar: a value too long
//                                       for a bundle entry, whose entry is
//                                       then empty
//   extra data
//   times, each present per its flag. Normally nanoseconds as zigzag
//   varints: the integrate time less the previous leaf's in the bundle (0
//   before the first; omitted with kSameIntegrateTime), then the integrate
//   time less the queue time. With kWideTimes (a time outside int64
//   nanoseconds or not normalised): each as zigzag seconds and nanos.
#ifndef TRELLIS_STORAGE_ROCKSDB_LEAF_BUNDLE_H_
#define TRELLIS_STORAGE_ROCKSDB_LEAF_BUNDLE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "trillian_log_api.pb.h"

namespace trellis::storage::rocksdb {

inline constexpr size_t kLeavesPerBundle = 256;

class LeafBundle {
 public:
  LeafBundle() = default;

  // DATA_LOSS if the two records do not describe the same leaves.
  static absl::StatusOr<LeafBundle> Decode(std::string entries,
                                           std::string sidecar);

  size_t size() const { return leaves_.size(); }
  bool full() const { return leaves_.size() == kLeavesPerBundle; }
  const std::string& entries() const { return entries_; }
  const std::string& sidecar() const { return sidecar_; }

  // Adds the next leaf (leaf_index and merkle_leaf_hash are not stored).
  // FAILED_PRECONDITION if the bundle is full.
  absl::Status Append(const trillian::LogLeaf& leaf);

  // The leaf at `offset` < size(), given its index and Merkle hash.
  trillian::LogLeaf Leaf(size_t offset, uint64_t leaf_index,
                         absl::string_view merkle_leaf_hash) const;

  // The C2SP entry bundle of the first `width` leaves, or
  // FAILED_PRECONDITION if one of them is too long for a bundle entry.
  absl::StatusOr<absl::string_view> EntriesPrefix(size_t width) const;

 private:
  struct Span {
    size_t offset = 0;
    size_t size = 0;
  };
  struct Time {
    int64_t seconds = 0;
    int32_t nanos = 0;
  };
  struct Decoded {
    uint64_t flags = 0;
    Span value;            // In entries_, or in sidecar_ with kValueInSidecar.
    size_t entry_end = 0;  // Where the leaf's bundle entry ends.
    Span identity;
    Span extra;
    Time integrate;
    Time queue;
  };

  // The last leaf's integrate time in nanoseconds, which the next one's is
  // stored relative to (0 if there is none or it is wide).
  int64_t PreviousIntegrateNanos() const;
  // Parses the next sidecar record at `*pos`, for a leaf whose bundle entry
  // is `entry` (in entries_).
  absl::StatusOr<Decoded> ParseNext(size_t* pos, Span entry) const;

  std::string entries_;
  std::string sidecar_;
  std::vector<Decoded> leaves_;
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_LEAF_BUNDLE_H_
