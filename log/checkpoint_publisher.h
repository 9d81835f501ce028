// Publishes each log's latest root as a C2SP checkpoint (a signed note under
// the log's Ed25519 note key, named by its origin). Roots are stored only by
// the sequencer's synced integration write, so every root read here already
// describes durable tiles: a checkpoint is never published for tiles that a
// crash could lose. Checkpoints are stored durably before they are served.
//
// A log with a witness policy (LogSettings.witness_policy) publishes a
// checkpoint only once its witnesses' cosignatures meet the policy's quorum
// (or, with witness_fail_open, with whatever cosignatures it got); the
// published note carries them after the log's signature.
#ifndef TRELLIS_LOG_CHECKPOINT_PUBLISHER_H_
#define TRELLIS_LOG_CHECKPOINT_PUBLISHER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "log/witness_collector.h"
#include "storage/log_storage.h"
#include "storage/tree_storage.h"
#include "tlog/note.h"

namespace trellis::log {

// A log's checkpoint signer (KeyStore::NoteSignerFor).
using NoteSignerProvider =
    std::function<absl::StatusOr<std::shared_ptr<const tlog::NoteSigner>>(
        int64_t tree_id)>;

class CheckpointPublisher {
 public:
  // Passes run every `interval` once started. `witnesses` may be null when
  // no log has a witness policy.
  CheckpointPublisher(storage::TreeStorage* trees, storage::LogStorage* logs,
                      NoteSignerProvider signers, absl::Duration interval,
                      WitnessCollector* witnesses = nullptr);
  ~CheckpointPublisher();  // Stops and joins.

  void Start();
  void Stop();

  // Publish() for every initialised, non-deleted log; errors are reported
  // on stderr and the pass goes on.
  void RunPass();

  // Signs and stores a checkpoint for the log's latest root unless the
  // latest published checkpoint is already for that size. Returns the
  // latest published checkpoint. NOT_FOUND for a log never initialised;
  // UNAVAILABLE when its witnesses' cosignatures fall short of
  // the quorum (nothing is published then, unless the log fails open).
  absl::StatusOr<storage::StoredCheckpoint> Publish(int64_t tree_id);

  // The latest published checkpoint; NOT_FOUND before the first.
  absl::StatusOr<std::shared_ptr<const storage::StoredCheckpoint>> Latest(
      int64_t tree_id);

 private:
  void Remember(int64_t tree_id, const storage::StoredCheckpoint& checkpoint);
  // Appends the witnesses' cosignatures of the checkpoint `text` (signed by
  // the log in `lines`) to `lines`; UNAVAILABLE when they miss the quorum
  // of a log that does not fail open.
  absl::Status Witness(int64_t tree_id, const std::string& text, uint64_t size,
                       std::vector<std::string>& lines);

  storage::TreeStorage* const trees_;
  storage::LogStorage* const logs_;
  const NoteSignerProvider signers_;
  const absl::Duration interval_;
  WitnessCollector* const witnesses_;
  // One Publish at a time: two would race to sign the same size.
  absl::Mutex publish_mu_;
  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, std::shared_ptr<const storage::StoredCheckpoint>>
      latest_ ABSL_GUARDED_BY(mu_);
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace trellis::log

#endif  // TRELLIS_LOG_CHECKPOINT_PUBLISHER_H_
