// How the agent proves its node to the server over AttestAgent: a join
// token, the spire-tpm-plugin `tpm` protocol, or sovereign evidence
// (unified_identity), each answering the server's challenges its own way.
#ifndef TRELLIS_AGENT_NODE_ATTESTOR_H_
#define TRELLIS_AGENT_NODE_ATTESTOR_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/config.h"
#include "grpcpp/channel.h"

namespace trellis::agent {

class NodeAttestor {
 public:
  virtual ~NodeAttestor() = default;
  virtual std::string type() const = 0;
  // The attestation data's payload.
  virtual absl::StatusOr<std::string> Payload() = 0;
  // The answer to a server challenge.
  virtual absl::StatusOr<std::string> Answer(const std::string& challenge) = 0;
};

// The attestor `config` names. UNAVAILABLE if its TPM cannot be reached.
absl::StatusOr<std::unique_ptr<NodeAttestor>> MakeNodeAttestor(
    const AgentConfig& config);

struct AttestedNode {
  std::vector<std::string> chain_der;  // The agent SVID, leaf first.
  bool reattestable = false;
};

// Runs AttestAgent on `channel` for an SVID of `csr_der`'s key. The
// server's refusal comes back as its gRPC status.
absl::StatusOr<AttestedNode> AttestNode(
    const std::shared_ptr<grpc::Channel>& channel, NodeAttestor& attestor,
    const std::string& csr_der);

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_NODE_ATTESTOR_H_
