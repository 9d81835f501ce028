// LogStorage on the embedded RocksDB (key layout in keys.h, tiles in tile.h).
#ifndef TRELLIS_STORAGE_ROCKSDB_LOG_STORAGE_H_
#define TRELLIS_STORAGE_ROCKSDB_LOG_STORAGE_H_

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "rocksdb/write_batch.h"
#include "storage/log_storage.h"
#include "storage/rocksdb/database.h"
#include "storage/rocksdb/identity_record.h"
#include "storage/rocksdb/leaf_bundle.h"
#include "storage/rocksdb/tile_cache.h"

namespace trellis::storage::rocksdb {

inline constexpr size_t kDefaultLogTileCacheBytes = size_t{1} << 30;
inline constexpr size_t kDefaultMaxQueuedBytesPerLog = size_t{512} << 20;

class RocksLogStorage : public LogStorage {
 public:
  // `tile_cache_bytes` bounds the in-memory cache of complete Merkle tiles.
  // Queued leaves are held in memory until integrated: beyond
  // `max_queued_bytes` per log, QueueLeaves answers RESOURCE_EXHAUSTED (a
  // sequencer that cannot keep up pushes back on writers).
  explicit RocksLogStorage(
      Database* db, size_t tile_cache_bytes = kDefaultLogTileCacheBytes,
      size_t max_queued_bytes = kDefaultMaxQueuedBytesPerLog)
      : db_(db),
        tile_cache_(tile_cache_bytes),
        max_queued_bytes_(max_queued_bytes) {}

  absl::StatusOr<std::optional<trillian::SignedLogRoot>> LatestRoot(
      int64_t tree_id) override;
  absl::Status InitRoot(int64_t tree_id,
                        const trillian::SignedLogRoot& root) override;
  absl::StatusOr<std::vector<QueueOutcome>> QueueLeaves(
      int64_t tree_id, std::vector<trillian::LogLeaf> leaves) override;
  absl::StatusOr<std::vector<absl::Status>> AddSequencedLeaves(
      int64_t tree_id, std::vector<trillian::LogLeaf> leaves,
      std::vector<trillian::LogLeaf>* held) override;
  absl::StatusOr<QueueDepth> Queued(int64_t tree_id) override;
  absl::StatusOr<std::vector<QueuedEntry>> PeekQueue(int64_t tree_id,
                                                     size_t max) override;
  absl::StatusOr<std::vector<trillian::LogLeaf>> PeekSequenced(
      int64_t tree_id, uint64_t from, size_t max) override;
  absl::StatusOr<bool> HasUnintegratedLeaves(int64_t tree_id) override;
  absl::Status Integrate(int64_t tree_id,
                         const IntegrationBatch& batch) override;
  absl::StatusOr<std::vector<trillian::LogLeaf>> GetLeavesByIndex(
      int64_t tree_id, absl::Span<const int64_t> indices) override;
  absl::StatusOr<std::vector<trillian::LogLeaf>> GetLeavesByRange(
      int64_t tree_id, uint64_t start, uint64_t count, uint64_t limit) override;
  absl::StatusOr<std::vector<uint64_t>> IndicesByHash(
      int64_t tree_id, absl::string_view merkle_leaf_hash) override;
  std::unique_ptr<merkle::NodeReader> NodeReader(int64_t tree_id) override;
  absl::StatusOr<std::optional<StoredCheckpoint>> LatestCheckpoint(
      int64_t tree_id) override;
  absl::Status PutCheckpoint(int64_t tree_id,
                             const StoredCheckpoint& checkpoint) override;
  absl::StatusOr<std::string> ReadTile(int64_t tree_id, uint32_t tile_level,
                                       uint64_t tile_index,
                                       uint32_t width) override;
  absl::StatusOr<std::string> ReadEntryBundle(int64_t tree_id,
                                              uint64_t bundle_index,
                                              uint32_t width) override;

 private:
  // The leaves of one queue record (one QueueLeaves call; a single leaf for
  // records of older versions), kept in memory until integrated.
  struct QueuedBatch {
    std::vector<trillian::LogLeaf> leaves;
    size_t consumed = 0;  // Integrated, from the front.
    bool legacy = false;  // A per-leaf 'q' record.
  };

  // In-memory state of one tree, loaded from the database on first use.
  struct TreeState {
    absl::Mutex mu;
    std::optional<trillian::SignedLogRoot> root ABSL_GUARDED_BY(mu);
    uint64_t tree_size ABSL_GUARDED_BY(mu) = 0;
    uint64_t revision ABSL_GUARDED_BY(mu) = 0;
    // Next queue record sequence number to hand out.
    uint64_t next_queue_seq ABSL_GUARDED_BY(mu) = 0;
    // The queue: every record not wholly integrated, by sequence number.
    // A record is here from just before its write (so that lookups never
    // find an identity whose leaf they cannot see) until integrated.
    std::map<uint64_t, QueuedBatch> queue ABSL_GUARDED_BY(mu);
    // What the queue's leaves take in memory (QueuedBytes of each).
    size_t queued_bytes ABSL_GUARDED_BY(mu) = 0;
    uint64_t queued_leaves ABSL_GUARDED_BY(mu) = 0;
    // Sequence numbers of queue writes not yet committed; the sequencer
    // reads no further than the smallest, so it never skips a record that
    // commits late.
    std::set<uint64_t> in_flight ABSL_GUARDED_BY(mu);
    // Keys of the identity records being written right now, for
    // de-duplication across concurrent calls.
    absl::flat_hash_set<std::string> pending ABSL_GUARDED_BY(mu);
    // Serialises AddSequencedLeaves, which checks then writes.
    absl::Mutex sequenced_mu;
    // The right-edge entry bundle as last written by Integrate (absent
    // until first needed): every pass appends to it.
    absl::Mutex integrate_mu;
    std::optional<std::pair<uint64_t, LeafBundle>> edge_bundle
        ABSL_GUARDED_BY(integrate_mu);
  };

  absl::StatusOr<TreeState*> State(int64_t tree_id);
  absl::Status Load(int64_t tree_id, TreeState& state);
  struct HeldEntry {
    trillian::LogLeaf leaf;
    // False while the leaf waits in the queue. (PREORDERED_LOG leaves are
    // "in the tree" at their index even before the tree grows to it.)
    bool in_tree;
  };
  // The leaf with this identity hash, queued or stored at an index.
  absl::StatusOr<std::optional<HeldEntry>> HeldLeaf(
      int64_t tree_id, absl::string_view identity_hash);
  struct IdentityLookup {
    std::optional<HeldEntry> held;
    // The identity record's value, which a new leaf's position extends
    // (empty if there is none).
    std::string record;
  };
  absl::StatusOr<IdentityLookup> LookupIdentity(
      int64_t tree_id, absl::string_view identity_hash);
  // The same for many identities at once (one MultiGet); record_keys[i] is
  // keys::Identity(tree_id, identity_hashes[i]).
  absl::StatusOr<std::vector<IdentityLookup>> LookupIdentities(
      int64_t tree_id, absl::Span<const absl::string_view> identity_hashes,
      absl::Span<const std::string> record_keys);
  // The leaf at one position of an identity record.
  absl::StatusOr<HeldEntry> ResolvePosition(int64_t tree_id,
                                            const LeafPosition& position);
  // The leaves at `indices`: from their entry bundles once integrated,
  // else from their per-index records (PREORDERED_LOG leaves ahead of the
  // tree). nullopt where neither holds one.
  absl::StatusOr<std::vector<std::optional<trillian::LogLeaf>>> ReadLeaves(
      int64_t tree_id, absl::Span<const uint64_t> indices);
  absl::StatusOr<std::optional<trillian::LogLeaf>> ReadLeaf(int64_t tree_id,
                                                            uint64_t index);
  // Per-index leaf records with indices start, start+1, ... below `end`,
  // up to the first gap.
  absl::StatusOr<std::vector<trillian::LogLeaf>> ScanLeafRecords(
      int64_t tree_id, uint64_t start, uint64_t end);
  // Appends integrated leaves (contiguous, from the tree's size) to their
  // entry bundles in `wb`; returns the new right-edge bundle, if partial.
  absl::StatusOr<std::optional<std::pair<uint64_t, LeafBundle>>>
  AppendToBundles(int64_t tree_id, TreeState& state, uint64_t tree_size,
                  const std::vector<trillian::LogLeaf>& leaves,
                  ::rocksdb::WriteBatch& wb)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state.integrate_mu);

  Database* const db_;
  TileCache tile_cache_;
  const size_t max_queued_bytes_;
  // Serialises PutCheckpoint's check-then-write.
  absl::Mutex checkpoint_mu_;
  absl::Mutex states_mu_;
  absl::flat_hash_map<int64_t, std::unique_ptr<TreeState>> states_
      ABSL_GUARDED_BY(states_mu_);
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_LOG_STORAGE_H_
