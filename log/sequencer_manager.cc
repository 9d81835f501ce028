#include "log/sequencer_manager.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "logging/log.h"

namespace trellis::log {

SequencerManager::SequencerManager(storage::TreeStorage* trees,
                                   Sequencer* sequencer,
                                   absl::Duration interval)
    : trees_(trees), sequencer_(sequencer), interval_(interval) {}

SequencerManager::~SequencerManager() { Stop(); }

void SequencerManager::Start() {
  thread_ = std::thread([this] {
    // Integration goes first when the CPU is contended: a slower QueueLeaves
    // acknowledgement pushes back on writers, a slower sequencer would only
    // grow the merge delay. (Needs CAP_SYS_NICE; harmless without it.)
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), -10);
    while (!stop_.HasBeenNotified()) {
      if (!RunPass()) stop_.WaitForNotificationWithTimeout(interval_);
    }
  });
}

void SequencerManager::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

bool SequencerManager::RunPass() {
  absl::StatusOr<std::vector<trillian::Tree>> trees =
      trees_->ListTrees(/*include_deleted=*/false);
  if (!trees.ok()) {
    logging::Error("sequencer", "cannot list trees",
                   {{"error", trees.status().ToString()}});
    return false;
  }
  bool full_batch = false;
  for (const trillian::Tree& tree : *trees) {
    const bool is_log = tree.tree_type() == trillian::LOG ||
                        tree.tree_type() == trillian::PREORDERED_LOG;
    const bool writable = tree.tree_state() == trillian::ACTIVE ||
                          tree.tree_state() == trillian::DRAINING;
    if (!is_log || !writable) continue;
    absl::StatusOr<size_t> n = sequencer_->IntegrateBatch(tree, absl::Now());
    if (!n.ok()) {
      logging::Error("sequencer", "integration failed",
                     {{"tree", absl::StrCat(tree.tree_id())},
                      {"error", n.status().ToString()}});
      continue;
    }
    if (*n >= sequencer_->batch_size()) full_batch = true;
  }
  return full_batch;
}

}  // namespace trellis::log
