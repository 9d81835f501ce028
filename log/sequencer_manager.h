// Runs the sequencer over every active log in a background thread.
#ifndef TRELLIS_LOG_SEQUENCER_MANAGER_H_
#define TRELLIS_LOG_SEQUENCER_MANAGER_H_

#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "log/sequencer.h"
#include "storage/tree_storage.h"

namespace trellis::log {

class SequencerManager {
 public:
  // Each pass integrates one batch per ACTIVE or DRAINING, non-deleted LOG
  // and PREORDERED_LOG tree; passes repeat at once while some tree had a
  // full batch, otherwise every `interval`.
  SequencerManager(storage::TreeStorage* trees, Sequencer* sequencer,
                   absl::Duration interval);
  ~SequencerManager();  // Stops and joins.

  void Start();
  // Finishes the current pass and stops.
  void Stop();

  // One pass over all trees; returns true if any tree had a full batch.
  bool RunPass();

 private:
  storage::TreeStorage* const trees_;
  Sequencer* const sequencer_;
  const absl::Duration interval_;
  absl::Notification stop_;
  std::thread thread_;
};

}  // namespace trellis::log

#endif  // TRELLIS_LOG_SEQUENCER_MANAGER_H_
