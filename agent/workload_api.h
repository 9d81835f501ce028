// The SPIFFE Workload API (go-spiffe's workload.proto; method paths
// /SpiffeWorkloadAPI/...) served from the agent's snapshot. Every call must
// carry `workload.spiffe.io: true`; the caller is attested from its
// connection's credentials and gets the SVIDs of the entries whose
// selectors it all has.
#ifndef TRELLIS_AGENT_WORKLOAD_API_H_
#define TRELLIS_AGENT_WORKLOAD_API_H_

#include "agent/agent.h"
#include "agent/workload_endpoint.h"
#include "spiffe/workload/workload.grpc.pb.h"

namespace trellis::agent {

// The streams use gRPC's callback API (a stream holds no thread while it
// waits for changes); the unary calls, which may wait on the server, are
// synchronous.
class WorkloadApi final
    : public SpiffeWorkloadAPI::WithCallbackMethod_FetchX509SVID<
          SpiffeWorkloadAPI::WithCallbackMethod_FetchX509Bundles<
              SpiffeWorkloadAPI::WithCallbackMethod_FetchJWTBundles<
                  SpiffeWorkloadAPI::Service>>> {
 public:
  WorkloadApi(Agent* agent, const PeerDirectory* peers)
      : agent_(agent), peers_(peers) {}

  grpc::ServerWriteReactor<X509SVIDResponse>* FetchX509SVID(
      grpc::CallbackServerContext* context,
      const X509SVIDRequest* request) override;
  grpc::ServerWriteReactor<X509BundlesResponse>* FetchX509Bundles(
      grpc::CallbackServerContext* context,
      const X509BundlesRequest* request) override;
  grpc::ServerWriteReactor<JWTBundlesResponse>* FetchJWTBundles(
      grpc::CallbackServerContext* context,
      const JWTBundlesRequest* request) override;
  grpc::Status FetchJWTSVID(grpc::ServerContext* context,
                            const JWTSVIDRequest* request,
                            JWTSVIDResponse* response) override;
  grpc::Status ValidateJWTSVID(grpc::ServerContext* context,
                               const ValidateJWTSVIDRequest* request,
                               ValidateJWTSVIDResponse* response) override;

 private:
  class SovereignStream;

  // The caller's entries in `snapshot`: INVALID_ARGUMENT without the
  // security header, PERMISSION_DENIED when it matches none.
  absl::StatusOr<std::vector<const spire::api::types::Entry*>> Attest(
      const grpc::ServerContextBase& context, const Snapshot& snapshot) const;
  // The sovereign form of FetchX509SVID's response: SVIDs minted for this
  // request on `evidence` (or on the agent's own), with their claims.
  absl::StatusOr<X509SVIDResponse> SovereignResponse(
      const grpc::ServerContextBase& context,
      const spire::api::types::SovereignAttestation& evidence);

  Agent* const agent_;
  const PeerDirectory* const peers_;
};

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_WORKLOAD_API_H_
