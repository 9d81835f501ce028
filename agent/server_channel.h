// The agent's connection to the SPIRE server: TLS where the server must
// present the X509-SVID spiffe://<td>/spire/server chaining to the agent's
// bundle (hostnames are irrelevant, as with spire-agent), or, while
// bootstrapping insecurely, merely carry that ID. Once attested, the agent
// presents its own SVID (mTLS).
#ifndef TRELLIS_AGENT_SERVER_CHANNEL_H_
#define TRELLIS_AGENT_SERVER_CHANNEL_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpcpp/channel.h"

namespace trellis::agent {

// The X.509 roots the server's certificate must chain to; replaced as the
// trust domain's bundle changes, read by every handshake.
class TrustedRoots {
 public:
  void Set(std::vector<std::string> roots_der) {
    absl::MutexLock lock(&mu_);
    roots_ = std::move(roots_der);
  }
  std::vector<std::string> Get() const {
    absl::MutexLock lock(&mu_);
    return roots_;
  }

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> roots_ ABSL_GUARDED_BY(mu_);
};

struct ServerChannelOptions {
  std::string address;       // host:port
  std::string trust_domain;  // The server's ID is spiffe://<td>/spire/server.
  // Null: insecure bootstrap (only the server's ID is checked).
  std::shared_ptr<const TrustedRoots> roots;
  // The agent's SVID (PEM key, PEM chain leaf first); empty: none.
  std::string key_pem;
  std::string chain_pem;
};

std::shared_ptr<grpc::Channel> ServerChannel(
    const ServerChannelOptions& options);

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_SERVER_CHANNEL_H_
