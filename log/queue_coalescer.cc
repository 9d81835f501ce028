#include "log/queue_coalescer.h"

#include <cassert>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"

namespace trellis::log {
namespace {

absl::Status TooManyWaiting(int64_t log_id) {
  return absl::ResourceExhaustedError(
      absl::StrCat("too many writes to log ", log_id, " waiting; retry later"));
}

}  // namespace

QueueCoalescer::LogQueue* QueueCoalescer::QueueFor(int64_t log_id) {
  absl::MutexLock lock(&mu_);
  std::unique_ptr<LogQueue>& queue = queues_[log_id];
  if (queue == nullptr) queue = std::make_unique<LogQueue>();
  return queue.get();
}

void QueueCoalescer::Queue(int64_t log_id,
                           std::vector<trillian::LogLeaf> leaves,
                           QueueDone done) {
  LogQueue* queue = QueueFor(log_id);
  bool start_writing = false;
  {
    absl::MutexLock lock(&queue->mu);
    if (queue->waiting.size() < options_.max_waiting_calls) {
      queue->waiting.push_back({std::move(leaves), std::move(done)});
      start_writing = !queue->writing;
      queue->writing = true;
      done = nullptr;
    }
  }
  if (done != nullptr) {
    std::move(done)(TooManyWaiting(log_id));
    return;
  }
  if (start_writing) ScheduleWriting(log_id, queue);
}

void QueueCoalescer::ScheduleWriting(int64_t log_id, LogQueue* queue) {
  // At most one task per log is ever queued, so the pool's queue stays
  // bounded by the number of logs without a limit of its own: this cannot
  // be refused.
  const bool scheduled =
      pool_->TrySchedule([this, log_id, queue] { WriteWaiting(log_id, queue); },
                         std::numeric_limits<size_t>::max());
  assert(scheduled);
  (void)scheduled;
}

void QueueCoalescer::WriteWaiting(int64_t log_id, LogQueue* queue) {
  std::vector<Call> calls;
  {
    absl::MutexLock lock(&queue->mu);
    if (queue->waiting.empty()) {
      queue->writing = false;
      return;
    }
    size_t leaves = 0;
    while (!queue->waiting.empty() &&
           (calls.empty() || leaves + queue->waiting.front().leaves.size() <=
                                 options_.max_leaves_per_write)) {
      leaves += queue->waiting.front().leaves.size();
      calls.push_back(std::move(queue->waiting.front()));
      queue->waiting.pop_front();
    }
  }
  WriteBatch(log_id, std::move(calls));
  // Calls that arrived meanwhile are written by the next task, queued
  // behind other logs' work rather than holding this thread while the log
  // stays busy (it finds none waiting when the log went idle).
  ScheduleWriting(log_id, queue);
}

void QueueCoalescer::WriteBatch(int64_t log_id, std::vector<Call> calls) {
  std::vector<trillian::LogLeaf> leaves;
  if (calls.size() == 1) {
    leaves = std::move(calls.front().leaves);
  } else {
    size_t total = 0;
    for (const Call& call : calls) total += call.leaves.size();
    leaves.reserve(total);
    for (Call& call : calls) {
      for (trillian::LogLeaf& leaf : call.leaves) {
        leaves.push_back(std::move(leaf));
      }
    }
  }
  // A leaf repeating one of an earlier call in the batch is answered with
  // that leaf, as if the calls had been written one after another.
  absl::StatusOr<std::vector<storage::QueueOutcome>> outcomes =
      logs_->QueueLeaves(log_id, std::move(leaves));
  if (!outcomes.ok()) {
    for (Call& call : calls) std::move(call.done)(outcomes.status());
    return;
  }
  if (calls.size() == 1) {
    std::move(calls.front().done)(std::move(outcomes));
    return;
  }
  auto next = outcomes->begin();
  for (Call& call : calls) {
    const auto end = next + call.leaves.size();
    std::vector<storage::QueueOutcome> own(std::make_move_iterator(next),
                                           std::make_move_iterator(end));
    next = end;
    std::move(call.done)(std::move(own));
  }
}

}  // namespace trellis::log
