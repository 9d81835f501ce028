// Group commit for queued leaves: concurrent QueueLeaves calls to one log
// are written as one storage call (one dedup lookup, one synced write), as
// Tessera batches single-entry requests in memory. Calls arriving while a
// log's write is in flight wait for the next one, so a busy log writes
// back-to-back batches and an idle one writes a lone call at once: no timer
// adds latency. Each log has at most one coalesced write in flight;
// different logs write in parallel on the pool. Large calls are left to
// callers (WritesAlone), which write them on their own.
#ifndef TRELLIS_LOG_QUEUE_COALESCER_H_
#define TRELLIS_LOG_QUEUE_COALESCER_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/log_storage.h"
#include "util/thread_pool.h"

namespace trellis::log {

// Receives one call's outcomes (in its leaves' order) or the write's error.
using QueueDone = absl::AnyInvocable<
    void(absl::StatusOr<std::vector<storage::QueueOutcome>>) &&>;

struct QueueCoalescerOptions {
  // Calls of at least this many leaves are not coalesced (WritesAlone):
  // they amortize a write by themselves, and several in flight together
  // keep the CPU busy while others wait for the disk.
  size_t write_alone_from = 64;
  // Most leaves one coalesced write takes.
  size_t max_leaves_per_write = 4096;
  // Calls that may wait per log (large calls: on the pool); more are
  // refused with RESOURCE_EXHAUSTED rather than held without bound.
  size_t max_waiting_calls = 1024;
};

class QueueCoalescer {
 public:
  // Writes run on `pool`, which must outlive the coalescer's last write:
  // destroy the pool (which finishes its tasks) before the coalescer.
  QueueCoalescer(storage::LogStorage* logs, ThreadPool* pool,
                 QueueCoalescerOptions options = {})
      : logs_(logs), pool_(pool), options_(options) {}

  // True for calls of `leaves` leaves that callers write on their own
  // (LogStorage::QueueLeaves on their pool), not through Queue.
  bool WritesAlone(size_t leaves) const {
    return leaves >= options_.write_alone_from;
  }

  // Queues prepared leaves (as LogStorage::QueueLeaves takes them) with
  // other calls' to the same log and calls `done` once they are durable, on
  // a pool thread; or at once, on this thread, when too many calls wait.
  void Queue(int64_t log_id, std::vector<trillian::LogLeaf> leaves,
             QueueDone done);

 private:
  struct Call {
    std::vector<trillian::LogLeaf> leaves;
    QueueDone done;
  };
  struct LogQueue {
    absl::Mutex mu;
    std::deque<Call> waiting ABSL_GUARDED_BY(mu);
    // True while a pool task is scheduled to write this log's calls.
    bool writing ABSL_GUARDED_BY(mu) = false;
  };

  LogQueue* QueueFor(int64_t log_id);
  // Schedules WriteWaiting on the pool.
  void ScheduleWriting(int64_t log_id, LogQueue* queue);
  // Writes one batch of the log's waiting calls, then schedules itself
  // again (behind other work on the pool); with none waiting, it stops.
  void WriteWaiting(int64_t log_id, LogQueue* queue);
  // One storage write for `calls`, whose dones it then calls.
  void WriteBatch(int64_t log_id, std::vector<Call> calls);

  storage::LogStorage* const logs_;
  ThreadPool* const pool_;
  const QueueCoalescerOptions options_;
  absl::Mutex mu_;
  // Never shrinks: one small entry per log that was ever written.
  absl::flat_hash_map<int64_t, std::unique_ptr<LogQueue>> queues_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::log

#endif  // TRELLIS_LOG_QUEUE_COALESCER_H_
