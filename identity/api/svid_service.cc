#include "identity/api/svid_service.h"

#include "identity/api/convert.h"
#include "util/grpc_status.h"

namespace trellis::identity::api {

namespace svid_v1 = spire::api::server::svid::v1;

grpc::Status SvidService::BatchNewX509SVID(
    grpc::ServerContext* context,
    const svid_v1::BatchNewX509SVIDRequest* request,
    svid_v1::BatchNewX509SVIDResponse* response) {
  absl::StatusOr<trellis::AttestedAgent> agent =
      RequireAgent(authority_, *context);
  if (!agent.ok()) return ToGrpc(agent.status());
  std::vector<X509SvidRequest> requests;
  requests.reserve(request->params_size());
  for (const svid_v1::NewX509SVIDParams& params : request->params()) {
    requests.push_back({params.entry_id(), params.csr()});
  }
  absl::StatusOr<std::vector<absl::StatusOr<AgentSvid>>> results =
      svids_->BatchNewX509Svid(*agent, requests);
  if (!results.ok()) return ToGrpc(results.status());
  // Every result carries a status: agents read it before the SVID.
  for (const absl::StatusOr<AgentSvid>& result : *results) {
    svid_v1::BatchNewX509SVIDResponse::Result* out = response->add_results();
    out->mutable_status()->set_code(
        static_cast<int32_t>(result.status().code()));
    out->mutable_status()->set_message(std::string(result.status().message()));
    if (result.ok()) *out->mutable_svid() = ToApiX509Svid(*result);
  }
  return grpc::Status::OK;
}

}  // namespace trellis::identity::api
