// The queued and integrated leaves of a log whose identity records are not
// written yet. Writing a record per leaf as it is queued costs a skiplist
// insert at a random place in the memtable, which was about half of the
// write path's CPU; instead the records of integrated leaves are written
// behind the sequencer in large batches in key order (see
// RocksLogStorage::WriteIdentityRecords), and until then lookups find the
// leaves here. The log's "indexed size" says which leaves have records:
// every leaf below it; the leaves at or above it are put back here at start
// from the queue and the entry bundles.
//
// Leaves are held by their record key (keys::Identity's last 8 bytes, of
// SHA-256 of the identity hash) as the records are: distinct identities may
// share one, so a reader confirms the whole hash against the leaf.
#ifndef TRELLIS_STORAGE_ROCKSDB_UNINDEXED_IDENTITIES_H_
#define TRELLIS_STORAGE_ROCKSDB_UNINDEXED_IDENTITIES_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/types/span.h"
#include "storage/rocksdb/identity_record.h"

namespace trellis::storage::rocksdb {

class UnindexedIdentities {
 public:
  // A leaf just queued at `position`.
  void AddQueued(uint64_t key, const LeafPosition& position);
  // The leaf queued at `queued` (nullopt: a leaf found at start) is now at
  // `index`, the tree's next leaf without a record.
  void AddIntegrated(uint64_t key, const std::optional<LeafPosition>& queued,
                     uint64_t index);
  // Where the leaves whose identities give this key are.
  absl::Span<const LeafPosition> Find(uint64_t key) const;

  // Up to `max` integrated leaves from the lowest index on: (index, key),
  // in index order.
  std::vector<std::pair<uint64_t, uint64_t>> Integrated(size_t max) const;
  // Forgets the first `count` of them, whose records are now written.
  void DropIntegrated(size_t count);
  size_t integrated_count() const { return integrated_.size(); }

  // Leaves below this index have identity records.
  uint64_t indexed_size() const { return indexed_size_; }
  void set_indexed_size(uint64_t size) { indexed_size_ = size; }

 private:
  absl::flat_hash_map<uint64_t, absl::InlinedVector<LeafPosition, 1>>
      positions_;
  std::deque<std::pair<uint64_t, uint64_t>> integrated_;  // (index, key)
  uint64_t indexed_size_ = 0;
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_UNINDEXED_IDENTITIES_H_
