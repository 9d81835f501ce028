// Synchronous use of an asynchronous operation: runs `start`, which is given
// the completion callback, and waits for the result passed to it.
#ifndef TRELLIS_UTIL_AWAIT_CALLBACK_H_
#define TRELLIS_UTIL_AWAIT_CALLBACK_H_

#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"

namespace trellis {

template <typename T, typename Start>
absl::StatusOr<T> AwaitCallback(Start start) {
  absl::Notification completed;
  absl::StatusOr<T> result = absl::InternalError("never completed");
  start([&](absl::StatusOr<T> outcome) {
    result = std::move(outcome);
    completed.Notify();
  });
  completed.WaitForNotification();
  return result;
}

}  // namespace trellis

#endif  // TRELLIS_UTIL_AWAIT_CALLBACK_H_
