// A server stream (gRPC callback API) of what a render function makes of
// the agent's snapshot: written at start and again whenever a new snapshot
// renders differently, woken by the agent rather than polling, so a stream
// costs nothing while nothing changes and is released as soon as its
// caller goes away.
#ifndef TRELLIS_AGENT_SNAPSHOT_STREAM_H_
#define TRELLIS_AGENT_SNAPSHOT_STREAM_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agent/agent.h"
#include "grpcpp/support/server_callback.h"
#include "util/grpc_status.h"

namespace trellis::agent {

template <typename Response>
class SnapshotStream final : public grpc::ServerWriteReactor<Response> {
 public:
  // What to send for a snapshot: a response, nothing yet (nullopt), or an
  // error that ends the stream.
  using Render =
      std::function<absl::StatusOr<std::optional<Response>>(const Snapshot&)>;

  // Deletes itself when the call is done.
  SnapshotStream(Agent* agent, Render render)
      : agent_(agent), render_(std::move(render)) {
    subscription_ = agent_->Subscribe([this] { Refresh(); });
    Refresh();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
    }
    if (!ok) return FinishOnce(grpc::Status::OK);  // The caller is gone.
    Refresh();
  }
  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }
  void OnDone() override {
    agent_->Unsubscribe(subscription_);
    delete this;
  }

 private:
  // Renders the current snapshot if it is newer than the last rendered and
  // no write is under way (the write's completion looks again). Writes and
  // the finish are started under the lock, so none follows the finish
  // (gRPC runs their completions later, never inside these calls).
  void Refresh() {
    const std::shared_ptr<const Snapshot> snapshot = agent_->Current();
    absl::MutexLock lock(&mu_);
    if (finished_ || writing_ ||
        (rendered_ && snapshot->generation == generation_)) {
      return;
    }
    rendered_ = true;
    generation_ = snapshot->generation;
    absl::StatusOr<std::optional<Response>> response = render_(*snapshot);
    if (!response.ok()) {
      finished_ = true;
      this->Finish(ToGrpc(response.status()));
      return;
    }
    if (!response->has_value()) return;
    std::string bytes = (*response)->SerializeAsString();
    if (bytes == last_sent_) return;
    last_sent_ = std::move(bytes);
    response_ = std::move(**response);
    writing_ = true;
    this->StartWrite(&response_);
  }

  void FinishOnce(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
    this->Finish(status);
  }

  Agent* const agent_;
  const Render render_;
  uint64_t subscription_ = 0;
  absl::Mutex mu_;
  bool rendered_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_sent_ ABSL_GUARDED_BY(mu_);
  Response response_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_SNAPSHOT_STREAM_H_
