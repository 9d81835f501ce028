#include "identity/api/bundle_service.h"

#include "spiffe/id.h"
#include "util/grpc_status.h"

namespace trellis::identity::api {

namespace bundle_v1 = spire::api::server::bundle::v1;

grpc::Status BundleService::GetBundle(grpc::ServerContext*,
                                      const bundle_v1::GetBundleRequest*,
                                      spire::api::types::Bundle* response) {
  *response = authority_.ca->Bundle();
  return grpc::Status::OK;
}

grpc::Status BundleService::GetFederatedBundle(
    grpc::ServerContext* context,
    const bundle_v1::GetFederatedBundleRequest* request,
    spire::api::types::Bundle*) {
  if (!authority_.operators->IsOperator(*context)) {
    absl::StatusOr<trellis::AttestedAgent> agent =
        RequireAgent(authority_, *context);
    if (!agent.ok()) return ToGrpc(agent.status());
  }
  absl::StatusOr<std::string> td =
      spiffe::ValidateTrustDomain(request->trust_domain());
  if (!td.ok()) return ToGrpc(td.status());
  if (*td == authority_.ca->options().trust_domain) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "trust domain is the server's own");
  }
  return grpc::Status(grpc::StatusCode::NOT_FOUND, "bundle not found");
}

grpc::Status BundleService::CountBundles(
    grpc::ServerContext* context, const bundle_v1::CountBundlesRequest*,
    bundle_v1::CountBundlesResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  response->set_count(1);
  return grpc::Status::OK;
}

}  // namespace trellis::identity::api
