// The integrated leaves of a log, 256 to a bundle, as two records: the
// leaf values as a C2SP tlog-tiles entry bundle (each a big-endian uint16
// length and the bytes), which tiles_http serves as it is, and a sidecar
// with what else Trillian's LogLeaf carries. A leaf's Merkle hash is not
// repeated: it is row 0 of the level-0 tile of the same index.
//
// Sidecar, per leaf, in order (about 5 bytes for a leaf of the default
// identity without extra data):
//   varint: the extra data's length << 6 | flags (kCustomIdentity,
//           kHasQueueTime, kHasIntegrateTime, kValueApart, kWideTimes,
//           kSameIntegrateTime)
//   [32-byte identity hash]            if kCustomIdentity (else the Merkle
//                                       hash is the identity)
//   (kValueApart: a value too long for a bundle entry is stored in a
//   record of its own, keys.h's 'v'; its entry is empty)
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
#include "rocksdb/write_batch.h"
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
  // FAILED_PRECONDITION if the bundle is full. A value longer than a
  // bundle entry allows is not stored here: the caller stores it apart.
  absl::Status Append(const trillian::LogLeaf& leaf);

  // True if the value of the leaf at `offset` is stored apart.
  bool ValueApart(size_t offset) const;
  // The leaf at `offset` < size(), given its index and Merkle hash; with
  // an empty value if that is stored apart.
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
    Span value;            // In entries_ (empty with kValueApart).
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

// Writing bundles to a log's column family (keys.h): appends the leaf at
// `index` to `bundle`, adding to `batch` the record of its value if that is
// stored apart...
absl::Status AppendLeaf(const trillian::LogLeaf& leaf, uint64_t index,
                        int64_t tree_id, ::rocksdb::ColumnFamilyHandle* family,
                        LeafBundle& bundle, ::rocksdb::WriteBatch& batch);
// ...and adds the records of the bundle at `bundle_index`.
absl::Status PutBundle(const LeafBundle& bundle, uint64_t bundle_index,
                       int64_t tree_id, ::rocksdb::ColumnFamilyHandle* family,
                       ::rocksdb::WriteBatch& batch);

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_LEAF_BUNDLE_H_
