// A fixed pool of threads running queued tasks; for work that blocks (synced
// writes) and must not run on gRPC's callback threads.
#ifndef TRELLIS_UTIL_THREAD_POOL_H_
#define TRELLIS_UTIL_THREAD_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace trellis {

class ThreadPool {
 public:
  explicit ThreadPool(int threads) {
    for (int i = 0; i < threads; ++i) {
      workers_.emplace_back([this] { Work(); });
    }
  }
  // Runs the tasks already queued, then joins.
  ~ThreadPool() {
    {
      absl::MutexLock lock(&mu_);
      stopping_ = true;
    }
    for (std::thread& t : workers_) t.join();
  }

  // Queues `task` unless `max_queued` tasks already wait; false if refused.
  bool TrySchedule(std::function<void()> task, size_t max_queued) {
    absl::MutexLock lock(&mu_);
    if (tasks_.size() >= max_queued) return false;
    tasks_.push_back(std::move(task));
    return true;
  }

 private:
  void Work() {
    for (;;) {
      std::function<void()> task;
      {
        absl::MutexLock lock(&mu_);
        mu_.Await(absl::Condition(
            +[](ThreadPool* p) ABSL_EXCLUSIVE_LOCKS_REQUIRED(p->mu_) {
              return p->stopping_ || !p->tasks_.empty();
            },
            this));
        if (tasks_.empty()) return;  // Stopping and drained.
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> workers_;
};

}  // namespace trellis

#endif  // TRELLIS_UTIL_THREAD_POOL_H_
