// The Workload API's Unix socket. Connections are accepted here (not by
// gRPC) so that each peer's credentials (SO_PEERCRED) are known, then
// handed to the gRPC server, whose calls name their connection "fd:N". The
// socket is world-accessible: who the caller is comes from its credentials,
// not from file permissions.
#ifndef TRELLIS_AGENT_WORKLOAD_ENDPOINT_H_
#define TRELLIS_AGENT_WORKLOAD_ENDPOINT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agent/unix_attestor.h"
#include "grpcpp/server.h"
#include "grpcpp/support/server_interceptor.h"

namespace trellis::agent {

// Who is at the other end of each accepted connection.
class PeerDirectory {
 public:
  void Record(int fd, const PeerCredentials& peer) {
    absl::MutexLock lock(&mu_);
    peers_[fd] = peer;  // A reused descriptor is the new connection's.
  }
  // The credentials of the connection gRPC calls `peer` ("fd:N").
  std::optional<PeerCredentials> Lookup(const std::string& peer) const;

 private:
  mutable absl::Mutex mu_;
  std::map<int, PeerCredentials> peers_ ABSL_GUARDED_BY(mu_);
};

class WorkloadEndpoint {
 public:
  using Interceptors = std::vector<
      std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>>;

  // Binds `socket_path` (a stale socket there is replaced) and serves
  // `services` on it, recording each connection's peer in `peers`; calls
  // pass through `interceptors` (metrics).
  static absl::StatusOr<std::unique_ptr<WorkloadEndpoint>> Start(
      const std::string& socket_path,
      const std::vector<grpc::Service*>& services, PeerDirectory* peers,
      Interceptors interceptors = {});
  ~WorkloadEndpoint();

 private:
  WorkloadEndpoint() = default;
  void AcceptLoop();

  std::string socket_path_;
  int listen_fd_ = -1;
  PeerDirectory* peers_ = nullptr;
  std::unique_ptr<grpc::Server> server_;
  std::thread acceptor_;
};

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_WORKLOAD_ENDPOINT_H_
