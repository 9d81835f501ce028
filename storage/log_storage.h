// Storage of log contents: queued and integrated leaves, Merkle nodes and
// signed roots (opaque bytes: sizes and revisions are passed explicitly).
// Backends make every method safe to call concurrently; the sequencer is the
// only caller of the integration methods for a tree.
#ifndef TRELLIS_STORAGE_LOG_STORAGE_H_
#define TRELLIS_STORAGE_LOG_STORAGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "merkle/node_id.h"
#include "merkle/proof_builder.h"
#include "trillian.pb.h"
#include "trillian_log_api.pb.h"

namespace trellis::storage {

// The outcome of queueing one leaf.
struct QueueOutcome {
  // True if the leaf was queued; false if its identity hash was already
  // held, in which case `leaf` is the held leaf.
  bool added = false;
  trillian::LogLeaf leaf;
};

// A leaf waiting in a LOG tree's queue, with its position in the queue (an
// opaque number that orders entries, handed back in IntegrationBatch).
struct QueuedEntry {
  uint64_t queue_seq = 0;
  trillian::LogLeaf leaf;
};

// What waits in a LOG tree's queue.
struct QueueDepth {
  uint64_t leaves = 0;
  uint64_t bytes = 0;  // In memory, as max_queued_bytes counts them.
};

// A checkpoint published for a log: a C2SP signed note for `size` leaves.
struct StoredCheckpoint {
  uint64_t size = 0;
  std::string note;
};

// Everything one sequencing pass writes, applied atomically.
struct IntegrationBatch {
  // The queue entry of each leaf (LOG trees: consumed_queue_seqs[i] became
  // leaves[i]); empty for PREORDERED_LOG.
  std::vector<uint64_t> consumed_queue_seqs;
  // Leaves with leaf_index and integrate_timestamp assigned.
  std::vector<trillian::LogLeaf> leaves;
  // Every perfect subtree completed by these leaves, children first.
  std::vector<std::pair<merkle::NodeID, std::string>> nodes;
  // The new signed root, stored as opaque bytes: storage never parses it.
  // tree_size and revision state what it says; revision must be the previous
  // revision plus one and tree_size the previous size plus leaves.size().
  trillian::SignedLogRoot root;
  uint64_t tree_size = 0;
  uint64_t revision = 0;
};

class LogStorage {
 public:
  virtual ~LogStorage() = default;

  // The newest signed root, or nullopt if the log was never initialised.
  virtual absl::StatusOr<std::optional<trillian::SignedLogRoot>> LatestRoot(
      int64_t tree_id) = 0;

  // Stores the first root, which the caller signed for the empty tree at
  // revision 0 (opaque to storage). ALREADY_EXISTS if the log has a root.
  virtual absl::Status InitRoot(int64_t tree_id,
                                const trillian::SignedLogRoot& root) = 0;

  // Queues leaves (merkle_leaf_hash, leaf_identity_hash and queue_timestamp
  // set) durably. A leaf whose identity hash is already held, queued or
  // integrated, or earlier in the same call, is not queued.
  virtual absl::StatusOr<std::vector<QueueOutcome>> QueueLeaves(
      int64_t tree_id, std::vector<trillian::LogLeaf> leaves) = 0;

  // Stores leaves of a PREORDERED_LOG at their given indices, durably. Per
  // leaf: OK; ALREADY_EXISTS if that exact leaf is held at that index;
  // FAILED_PRECONDITION if the index or identity is taken by another leaf.
  // The held leaf is returned in `held` for the non-OK cases.
  virtual absl::StatusOr<std::vector<absl::Status>> AddSequencedLeaves(
      int64_t tree_id, std::vector<trillian::LogLeaf> leaves,
      std::vector<trillian::LogLeaf>* held) = 0;

  // The leaves queued in a LOG tree and not yet integrated.
  virtual absl::StatusOr<QueueDepth> Queued(int64_t tree_id) = 0;

  // Up to `max` queued leaves of a LOG tree, oldest first.
  virtual absl::StatusOr<std::vector<QueuedEntry>> PeekQueue(int64_t tree_id,
                                                             size_t max) = 0;

  // Up to `max` stored-but-unintegrated PREORDERED_LOG leaves with
  // contiguous indices starting at `from`.
  virtual absl::StatusOr<std::vector<trillian::LogLeaf>> PeekSequenced(
      int64_t tree_id, uint64_t from, size_t max) = 0;

  // True if leaves are stored at or beyond the tree's end (PREORDERED_LOG
  // leaves added but not yet integrated).
  virtual absl::StatusOr<bool> HasUnintegratedLeaves(int64_t tree_id) = 0;

  // Applies a sequencing pass atomically and durably.
  virtual absl::Status Integrate(int64_t tree_id,
                                 const IntegrationBatch& batch) = 0;

  // Leaves by index; NOT_FOUND if any is not stored.
  virtual absl::StatusOr<std::vector<trillian::LogLeaf>> GetLeavesByIndex(
      int64_t tree_id, absl::Span<const int64_t> indices) = 0;

  // Up to `count` consecutive leaves from `start`, stopping below `limit`.
  virtual absl::StatusOr<std::vector<trillian::LogLeaf>> GetLeavesByRange(
      int64_t tree_id, uint64_t start, uint64_t count, uint64_t limit) = 0;

  // Indices of stored leaves with this Merkle leaf hash, ascending. May
  // include PREORDERED_LOG leaves not yet integrated: callers bound them by
  // the tree size.
  virtual absl::StatusOr<std::vector<uint64_t>> IndicesByHash(
      int64_t tree_id, absl::string_view merkle_leaf_hash) = 0;

  // Reads this tree's Merkle nodes, for proofs.
  virtual std::unique_ptr<merkle::NodeReader> NodeReader(int64_t tree_id) = 0;

  // The latest published checkpoint, or nullopt if none was.
  virtual absl::StatusOr<std::optional<StoredCheckpoint>> LatestCheckpoint(
      int64_t tree_id) = 0;

  // Stores `checkpoint` durably as the latest. FAILED_PRECONDITION if the
  // latest is for a larger tree.
  virtual absl::Status PutCheckpoint(int64_t tree_id,
                                     const StoredCheckpoint& checkpoint) = 0;

  // The C2SP tlog-tiles hash tile (tile_level, tile_index) of `width`
  // (1..256) hashes: the nodes at level 8 * tile_level with indices from
  // 256 * tile_index. NOT_FOUND if fewer are stored.
  virtual absl::StatusOr<std::string> ReadTile(int64_t tree_id,
                                               uint32_t tile_level,
                                               uint64_t tile_index,
                                               uint32_t width) = 0;

  // The C2SP entry bundle `bundle_index` of `width` (1..256) leaves: each
  // leaf value after a big-endian uint16 length. NOT_FOUND if fewer are
  // stored; FAILED_PRECONDITION if a leaf is longer than 65535 bytes.
  virtual absl::StatusOr<std::string> ReadEntryBundle(int64_t tree_id,
                                                      uint64_t bundle_index,
                                                      uint32_t width) = 0;
};

}  // namespace trellis::storage

#endif  // TRELLIS_STORAGE_LOG_STORAGE_H_
