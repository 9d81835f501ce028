// Who is calling the SPIRE API: an operator (operator socket or operator
// certificate), or an agent presenting its X509-SVID on the SPIRE endpoint.
#ifndef TRELLIS_IDENTITY_API_CALLER_H_
#define TRELLIS_IDENTITY_API_CALLER_H_

#include "absl/status/statusor.h"
#include "admin/operator_auth.h"
#include "ca/ca_manager.h"
#include "grpcpp/server_context.h"
#include "identity/agent_manager.h"
#include "util/rate_limiter.h"

namespace trellis::identity::api {

// What the SPIRE services need to decide who may call what.
struct Authority {
  const admin::OperatorAuth* operators;
  ca::CaManager* ca;
  AgentManager* agents;
  // Node attestations per client address (null: unlimited).
  RateLimiter* attestations = nullptr;
};

// RESOURCE_EXHAUSTED when the caller's address attested too often lately
// (upstream SPIRE allows one attestation a second per address).
absl::Status LimitAttestation(const Authority& authority,
                              const grpc::ServerContext& context);

// PERMISSION_DENIED unless the caller is an operator.
absl::Status RequireOperator(const Authority& authority,
                             const grpc::ServerContext& context);

// The caller's X509-SVID, chained to the bundle (UNAUTHENTICATED without
// one): downstream servers present a workload SVID.
absl::StatusOr<ca::VerifiedSvid> RequireSvid(
    const Authority& authority, const grpc::ServerContextBase& context);

// The calling agent: its SVID chains to the bundle and passes the agent
// checks (UNAUTHENTICATED without a trusted SVID, PERMISSION_DENIED with
// PermissionDeniedDetails for the agent states upstream agents act on).
absl::StatusOr<trellis::AttestedAgent> RequireAgent(
    const Authority& authority, const grpc::ServerContextBase& context);

}  // namespace trellis::identity::api

#endif  // TRELLIS_IDENTITY_API_CALLER_H_
