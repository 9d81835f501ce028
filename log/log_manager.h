// The log's rules, whatever the transport (as MapManager is for maps): which
// trees an operation may touch (type, state, deletion, in Trillian's order),
// leaf preparation and limits, initialisation, reads bounded by the signed
// tree size, and proofs with Trillian's server-skew answer (a size beyond
// the latest root gets the root and no proof). TrillianLog (log_service.h)
// translates gRPC to it; trellisd calls it directly.
#ifndef TRELLIS_LOG_LOG_MANAGER_H_
#define TRELLIS_LOG_LOG_MANAGER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "log/queue_coalescer.h"
#include "log/record_sink.h"
#include "log/root_signer.h"
#include "merkle/log_root.h"
#include "storage/log_storage.h"
#include "storage/tree_storage.h"
#include "trillian.pb.h"

namespace trellis::log {

struct LogManagerOptions {
  // Most leaves accepted in one QueueLeaves / AddSequencedLeaves call.
  size_t max_leaves_per_request = 50000;
  // Most leaves (or proofs) one read returns: LeavesByRange and the by-hash
  // reads return at most this many, LeavesByIndex refuses more.
  size_t max_leaves_per_read = 1000;
};

// The latest signed root and its parsed form.
struct LogHead {
  trillian::SignedLogRoot signed_root;
  merkle::LogRootV1 root;
};

struct InclusionProof {
  int64_t leaf_index = 0;
  std::vector<std::string> hashes;
};

// An answer given with the root it holds for; `value` is empty when the
// request is beyond that root (server skew).
template <typename T>
struct AtHead {
  LogHead head;
  std::optional<T> value;
};

class LogManager : public RecordSink {
 public:
  // With a `coalescer`, QueueLeavesThen writes concurrent calls together
  // through it; without one, it writes each call on the caller's thread.
  LogManager(storage::TreeStorage* trees, storage::LogStorage* logs,
             SignerProvider signers, LogManagerOptions options = {},
             QueueCoalescer* coalescer = nullptr)
      : trees_(trees),
        logs_(logs),
        signers_(std::move(signers)),
        options_(options),
        coalescer_(coalescer) {}

  // Signs the empty root (revision 0). ALREADY_EXISTS after.
  absl::StatusOr<trillian::SignedLogRoot> Init(int64_t log_id);

  // LOG trees: queues leaves durably; an already-held identity is answered
  // with the held leaf (QueueOutcome::added false).
  absl::StatusOr<std::vector<storage::QueueOutcome>> QueueLeaves(
      int64_t log_id,
      const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& leaves);

  // QueueLeaves that answers through `done` instead of waiting: a refusal
  // at once, on this thread; the outcomes once durable. Unless it
  // Coalesces the call, the write runs on this thread.
  void QueueLeavesThen(
      int64_t log_id,
      const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& leaves,
      QueueDone done);

  // PREORDERED_LOG trees: stores leaves at their contiguous indices. Per
  // leaf: OK with the leaf, or the refusal with the held leaf.
  struct SequencedOutcome {
    absl::Status status;
    trillian::LogLeaf leaf;
  };
  absl::StatusOr<std::vector<SequencedOutcome>> AddSequencedLeaves(
      int64_t log_id,
      const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& leaves);

  // The latest root; with first_tree_size > 0, a consistency proof from it.
  absl::StatusOr<AtHead<std::vector<std::string>>> LatestRoot(
      int64_t log_id, int64_t first_tree_size);
  absl::StatusOr<AtHead<InclusionProof>> InclusionProofAt(int64_t log_id,
                                                          int64_t leaf_index,
                                                          int64_t tree_size);
  // Proofs for every leaf with this Merkle hash below tree_size, in index
  // order (at most `max_proofs`, and at most max_leaves_per_read); NOT_FOUND
  // if none.
  absl::StatusOr<AtHead<std::vector<InclusionProof>>> InclusionProofsByHash(
      int64_t log_id, const std::string& leaf_hash, int64_t tree_size,
      size_t max_proofs = SIZE_MAX);
  absl::StatusOr<AtHead<std::vector<std::string>>> ConsistencyProof(
      int64_t log_id, int64_t first_tree_size, int64_t second_tree_size);
  // The leaf with its inclusion proof; a tree_size beyond the root is
  // answered for the root.
  struct Entry {
    trillian::LogLeaf leaf;
    InclusionProof proof;
  };
  absl::StatusOr<AtHead<Entry>> EntryAndProof(int64_t log_id,
                                              int64_t leaf_index,
                                              int64_t tree_size);

  // Leaves below the signed tree size. OUT_OF_RANGE for an index beyond it.
  absl::StatusOr<AtHead<std::vector<trillian::LogLeaf>>> LeavesByIndex(
      int64_t log_id, const google::protobuf::RepeatedField<int64_t>& indices);
  absl::StatusOr<AtHead<std::vector<trillian::LogLeaf>>> LeavesByRange(
      int64_t log_id, int64_t start_index, int64_t count);
  absl::StatusOr<AtHead<std::vector<trillian::LogLeaf>>> LeavesByHash(
      int64_t log_id,
      const google::protobuf::RepeatedPtrField<std::string>& leaf_hashes,
      bool order_by_sequence);

  // RecordSink: QueueLeaves of records as leaves of a LOG tree.
  absl::StatusOr<std::vector<std::string>> Append(
      int64_t log_id, const std::vector<std::string>& records) override;

  // True if QueueLeavesThen writes a call of `leaves` leaves through the
  // coalescer, off the caller's thread (else it writes on that thread).
  bool Coalesces(size_t leaves) const {
    return coalescer_ != nullptr && !coalescer_->WritesAlone(leaves);
  }

  // True if the tree exists, deleted or not.
  bool HasTree(int64_t tree_id) const { return trees_->GetTree(tree_id).ok(); }

  // Most leaves (or proofs) one read returns.
  size_t max_leaves_per_read() const { return options_.max_leaves_per_read; }

  // The latest root of a readable log (NOT_FOUND, INVALID_ARGUMENT for a
  // tree that is not a log, FAILED_PRECONDITION before Init).
  absl::StatusOr<LogHead> ReadableHead(int64_t log_id);

 private:
  // What an operation intends to do to a tree; decides which types and
  // states are allowed.
  enum class Access { kRead, kInit, kQueue, kSequence };

  absl::StatusOr<trillian::Tree> TreeFor(int64_t tree_id, Access access);
  // FAILED_PRECONDITION if the log was never initialised.
  absl::StatusOr<LogHead> LatestHead(int64_t tree_id);
  // The checks of QueueLeaves, then PrepareLeaves.
  absl::StatusOr<std::vector<trillian::LogLeaf>> PrepareQueue(
      int64_t log_id,
      const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& leaves);
  // Validated copies of submitted leaves with hashes and queue time set.
  absl::StatusOr<std::vector<trillian::LogLeaf>> PrepareLeaves(
      const trillian::Tree& tree,
      const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& in,
      bool keep_index);

  storage::TreeStorage* const trees_;
  storage::LogStorage* const logs_;
  const SignerProvider signers_;
  const LogManagerOptions options_;
  QueueCoalescer* const coalescer_;
};

}  // namespace trellis::log

#endif  // TRELLIS_LOG_LOG_MANAGER_H_
