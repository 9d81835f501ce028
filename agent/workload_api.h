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

class WorkloadApi final : public SpiffeWorkloadAPI::Service {
 public:
  WorkloadApi(Agent* agent, const PeerDirectory* peers)
      : agent_(agent), peers_(peers) {}

  grpc::Status FetchX509SVID(
      grpc::ServerContext* context, const X509SVIDRequest* request,
      grpc::ServerWriter<X509SVIDResponse>* writer) override;
  grpc::Status FetchX509Bundles(
      grpc::ServerContext* context, const X509BundlesRequest* request,
      grpc::ServerWriter<X509BundlesResponse>* writer) override;
  grpc::Status FetchJWTSVID(grpc::ServerContext* context,
                            const JWTSVIDRequest* request,
                            JWTSVIDResponse* response) override;
  grpc::Status FetchJWTBundles(
      grpc::ServerContext* context, const JWTBundlesRequest* request,
      grpc::ServerWriter<JWTBundlesResponse>* writer) override;
  grpc::Status ValidateJWTSVID(grpc::ServerContext* context,
                               const ValidateJWTSVIDRequest* request,
                               ValidateJWTSVIDResponse* response) override;

 private:
  // The caller's entries in `snapshot`: INVALID_ARGUMENT without the
  // security header, PERMISSION_DENIED when it matches none.
  absl::StatusOr<std::vector<const spire::api::types::Entry*>> Attest(
      const grpc::ServerContext& context, const Snapshot& snapshot) const;
  // The sovereign form of FetchX509SVID: SVIDs minted for this request on
  // `evidence` (or on the agent's own), with their attested claims.
  grpc::Status FetchSovereign(
      grpc::ServerContext* context,
      const spire::api::types::SovereignAttestation& evidence,
      grpc::ServerWriter<X509SVIDResponse>* writer);
  // Streams what `render` makes of each new snapshot (when it differs from
  // the last one sent) until the caller goes away.
  template <typename Response, typename Render>
  grpc::Status Stream(grpc::ServerContext* context,
                      grpc::ServerWriter<Response>* writer, Render render);

  Agent* const agent_;
  const PeerDirectory* const peers_;
};

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_WORKLOAD_API_H_
