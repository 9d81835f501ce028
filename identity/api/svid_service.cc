#include "identity/api/svid_service.h"

#include "identity/api/convert.h"
#include "util/grpc_callback.h"
#include "util/grpc_status.h"

namespace trellis::identity::api {

namespace svid_v1 = spire::api::server::svid::v1;

grpc::ServerUnaryReactor* SvidService::BatchNewX509SVID(
    grpc::CallbackServerContext* context,
    const svid_v1::BatchNewX509SVIDRequest* request,
    svid_v1::BatchNewX509SVIDResponse* response) {
  return RunUnary(context, issue_pool_, max_queued_,
                  [=] { return IssueX509(*context, *request, *response); });
}

grpc::Status SvidService::IssueX509(
    const grpc::ServerContextBase& context,
    const svid_v1::BatchNewX509SVIDRequest& request,
    svid_v1::BatchNewX509SVIDResponse& response) {
  absl::StatusOr<trellis::AttestedAgent> agent =
      RequireAgent(authority_, context);
  if (!agent.ok()) return ToGrpc(agent.status());
  std::vector<X509SvidRequest> requests;
  requests.reserve(request.params_size());
  for (const svid_v1::NewX509SVIDParams& params : request.params()) {
    requests.push_back({params.entry_id(), params.csr(),
                        params.has_sovereign_attestation()
                            ? &params.sovereign_attestation()
                            : nullptr});
  }
  absl::StatusOr<std::vector<absl::StatusOr<IssuedX509>>> results =
      svids_->BatchNewX509Svid(*agent, requests);
  if (!results.ok()) return ToGrpc(results.status());
  // Every result carries a status: agents read it before the SVID.
  for (const absl::StatusOr<IssuedX509>& result : *results) {
    svid_v1::BatchNewX509SVIDResponse::Result* out = response.add_results();
    *out->mutable_status() = ToApiStatus(result.status());
    if (!result.ok()) continue;
    *out->mutable_svid() = ToApiX509Svid(*result);
    if (result->attested_claims) {
      *out->add_attested_claims() = *result->attested_claims;
    }
  }
  return grpc::Status::OK;
}

namespace {

spire::api::types::JWTSVID ToApiJwtSvid(const IssuedJwt& svid) {
  spire::api::types::JWTSVID out;
  out.set_token(svid.jwt.token);
  *out.mutable_id() = ToApiSpiffeId(svid.spiffe_id);
  out.set_issued_at(absl::ToUnixSeconds(svid.jwt.issued_at));
  out.set_expires_at(absl::ToUnixSeconds(svid.jwt.expires_at));
  return out;
}

}  // namespace

// Runs on gRPC's thread (authorisation and signing do not block); the call
// is finished from the issuance log's writer once the record is durable.
grpc::ServerUnaryReactor* SvidService::NewJWTSVID(
    grpc::CallbackServerContext* context,
    const svid_v1::NewJWTSVIDRequest* request,
    svid_v1::NewJWTSVIDResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<trellis::AttestedAgent> agent =
      RequireAgent(authority_, *context);
  if (!agent.ok()) {
    reactor->Finish(ToGrpc(agent.status()));
    return reactor;
  }
  svids_->NewJwtSvidAsync(
      *agent, request->entry_id(),
      {request->audience().begin(), request->audience().end()},
      [reactor, response](absl::StatusOr<IssuedJwt> svid) {
        if (!svid.ok()) return reactor->Finish(ToGrpc(svid.status()));
        *response->mutable_svid() = ToApiJwtSvid(*svid);
        reactor->Finish(grpc::Status::OK);
      });
  return reactor;
}

grpc::Status SvidService::NewDownstreamX509CA(
    grpc::ServerContext* context,
    const svid_v1::NewDownstreamX509CARequest* request,
    svid_v1::NewDownstreamX509CAResponse* response) {
  absl::StatusOr<ca::VerifiedSvid> caller = RequireSvid(authority_, *context);
  if (!caller.ok()) return ToGrpc(caller.status());
  absl::StatusOr<ca::CaManager::DownstreamCa> issued =
      svids_->NewDownstreamX509Ca(caller->spiffe_id, request->csr(),
                                  absl::Seconds(request->preferred_ttl()));
  if (!issued.ok()) return ToGrpc(issued.status());
  for (std::string& der : issued->chain) response->add_ca_cert_chain(der);
  for (std::string& der : issued->roots) response->add_x509_authorities(der);
  return grpc::Status::OK;
}

grpc::Status SvidService::MintX509SVID(
    grpc::ServerContext* context, const svid_v1::MintX509SVIDRequest* request,
    svid_v1::MintX509SVIDResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  if (request->ttl() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "ttl may not be negative");
  }
  absl::StatusOr<IssuedX509> svid =
      svids_->MintX509Svid(request->csr(), absl::Seconds(request->ttl()));
  if (!svid.ok()) return ToGrpc(svid.status());
  *response->mutable_svid() = ToApiX509Svid(*svid);
  return grpc::Status::OK;
}

grpc::Status SvidService::MintJWTSVID(
    grpc::ServerContext* context, const svid_v1::MintJWTSVIDRequest* request,
    svid_v1::MintJWTSVIDResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  if (request->ttl() < 0) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "ttl may not be negative");
  }
  absl::StatusOr<IssuedJwt> svid = svids_->MintJwtSvid(
      SpiffeIdString(request->id()),
      {request->audience().begin(), request->audience().end()},
      absl::Seconds(request->ttl()));
  if (!svid.ok()) return ToGrpc(svid.status());
  *response->mutable_svid() = ToApiJwtSvid(*svid);
  return grpc::Status::OK;
}

}  // namespace trellis::identity::api
