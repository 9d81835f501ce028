// Finishing unary calls of gRPC's callback API: inline for handlers that do
// not block, on a thread pool for those that wait (synced writes).
#ifndef TRELLIS_UTIL_GRPC_CALLBACK_H_
#define TRELLIS_UTIL_GRPC_CALLBACK_H_

#include <functional>
#include <utility>

#include "grpcpp/server_context.h"
#include "grpcpp/support/server_callback.h"
#include "util/thread_pool.h"

namespace trellis {

// Runs `handler` (returning grpc::Status) and finishes the call with its
// result: on `pool` if given, refusing with RESOURCE_EXHAUSTED when
// `max_queued` calls already wait there (then `on_refused`, if given, undoes
// what was done for the call); inline otherwise.
template <typename Handler>
grpc::ServerUnaryReactor* RunUnary(grpc::CallbackServerContext* context,
                                   ThreadPool* pool, size_t max_queued,
                                   Handler handler,
                                   std::function<void()> on_refused = nullptr) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (pool == nullptr) {
    reactor->Finish(handler());
    return reactor;
  }
  const bool queued = pool->TrySchedule(
      [reactor, handler = std::move(handler)]() mutable {
        reactor->Finish(handler());
      },
      max_queued);
  if (!queued) {
    if (on_refused) on_refused();
    reactor->Finish(grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                                 "too many writes waiting; retry later"));
  }
  return reactor;
}

}  // namespace trellis

#endif  // TRELLIS_UTIL_GRPC_CALLBACK_H_
