#include "identity/api/local_authority_service.h"

#include "util/grpc_status.h"

namespace trellis::identity::api {
namespace {

using Kind = ca::CaManager::AuthorityKind;
using State = ca::CaManager::AuthorityState;

void ToProto(const State& state, localauthority_v1::AuthorityState* out) {
  out->set_authority_id(state.authority_id);
  out->set_expires_at(absl::ToUnixSeconds(state.expires_at));
  out->set_upstream_authority_subject_key_id(
      state.upstream_authority_subject_key_id);
}

// Runs `action` for an operator and puts the state it returns in `out`.
template <typename Action>
grpc::Status ForOperator(const Authority& authority,
                         const grpc::ServerContext& context, Action action,
                         localauthority_v1::AuthorityState* out) {
  if (absl::Status s = RequireOperator(authority, context); !s.ok()) {
    return ToGrpc(s);
  }
  absl::StatusOr<State> state = action(*authority.ca);
  if (!state.ok()) return ToGrpc(state.status());
  ToProto(*state, out);
  return grpc::Status::OK;
}

// The active, prepared and old authorities of `kind` into a Get*State
// response.
template <typename Response>
grpc::Status States(const Authority& authority,
                    const grpc::ServerContext& context, Kind kind,
                    Response* response) {
  if (absl::Status s = RequireOperator(authority, context); !s.ok()) {
    return ToGrpc(s);
  }
  const ca::CaManager::AuthorityStates states =
      authority.ca->GetAuthorityStates(kind);
  if (!states.active.has_value()) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        "server is initializing");
  }
  ToProto(*states.active, response->mutable_active());
  if (states.prepared) ToProto(*states.prepared, response->mutable_prepared());
  if (states.old) ToProto(*states.old, response->mutable_old());
  return grpc::Status::OK;
}

// An upstream authority's taint or revocation: refused with the reason.
grpc::Status UpstreamChange(const Authority& authority,
                            const grpc::ServerContext& context,
                            const std::string& subject_key_id) {
  if (absl::Status s = RequireOperator(authority, context); !s.ok()) {
    return ToGrpc(s);
  }
  return ToGrpc(authority.ca->RefuseUpstreamAuthorityChange(subject_key_id));
}

}  // namespace

grpc::Status LocalAuthorityService::GetJWTAuthorityState(
    grpc::ServerContext* context,
    const localauthority_v1::GetJWTAuthorityStateRequest*,
    localauthority_v1::GetJWTAuthorityStateResponse* response) {
  return States(authority_, *context, Kind::kJwt, response);
}

grpc::Status LocalAuthorityService::PrepareJWTAuthority(
    grpc::ServerContext* context,
    const localauthority_v1::PrepareJWTAuthorityRequest*,
    localauthority_v1::PrepareJWTAuthorityResponse* response) {
  return ForOperator(
      authority_, *context,
      [](ca::CaManager& ca) { return ca.PrepareAuthority(Kind::kJwt); },
      response->mutable_prepared_authority());
}

grpc::Status LocalAuthorityService::ActivateJWTAuthority(
    grpc::ServerContext* context,
    const localauthority_v1::ActivateJWTAuthorityRequest* request,
    localauthority_v1::ActivateJWTAuthorityResponse* response) {
  return ForOperator(
      authority_, *context,
      [request](ca::CaManager& ca) {
        return ca.ActivateAuthority(Kind::kJwt, request->authority_id());
      },
      response->mutable_activated_authority());
}

grpc::Status LocalAuthorityService::TaintJWTAuthority(
    grpc::ServerContext* context,
    const localauthority_v1::TaintJWTAuthorityRequest* request,
    localauthority_v1::TaintJWTAuthorityResponse* response) {
  return ForOperator(
      authority_, *context,
      [request](ca::CaManager& ca) {
        return ca.TaintAuthority(Kind::kJwt, request->authority_id());
      },
      response->mutable_tainted_authority());
}

grpc::Status LocalAuthorityService::RevokeJWTAuthority(
    grpc::ServerContext* context,
    const localauthority_v1::RevokeJWTAuthorityRequest* request,
    localauthority_v1::RevokeJWTAuthorityResponse* response) {
  return ForOperator(
      authority_, *context,
      [request](ca::CaManager& ca) {
        return ca.RevokeAuthority(Kind::kJwt, request->authority_id());
      },
      response->mutable_revoked_authority());
}

grpc::Status LocalAuthorityService::GetX509AuthorityState(
    grpc::ServerContext* context,
    const localauthority_v1::GetX509AuthorityStateRequest*,
    localauthority_v1::GetX509AuthorityStateResponse* response) {
  return States(authority_, *context, Kind::kX509, response);
}

grpc::Status LocalAuthorityService::PrepareX509Authority(
    grpc::ServerContext* context,
    const localauthority_v1::PrepareX509AuthorityRequest*,
    localauthority_v1::PrepareX509AuthorityResponse* response) {
  return ForOperator(
      authority_, *context,
      [](ca::CaManager& ca) { return ca.PrepareAuthority(Kind::kX509); },
      response->mutable_prepared_authority());
}

grpc::Status LocalAuthorityService::ActivateX509Authority(
    grpc::ServerContext* context,
    const localauthority_v1::ActivateX509AuthorityRequest* request,
    localauthority_v1::ActivateX509AuthorityResponse* response) {
  return ForOperator(
      authority_, *context,
      [request](ca::CaManager& ca) {
        return ca.ActivateAuthority(Kind::kX509, request->authority_id());
      },
      response->mutable_activated_authority());
}

grpc::Status LocalAuthorityService::TaintX509Authority(
    grpc::ServerContext* context,
    const localauthority_v1::TaintX509AuthorityRequest* request,
    localauthority_v1::TaintX509AuthorityResponse* response) {
  return ForOperator(
      authority_, *context,
      [request](ca::CaManager& ca) {
        return ca.TaintAuthority(Kind::kX509, request->authority_id());
      },
      response->mutable_tainted_authority());
}

grpc::Status LocalAuthorityService::TaintX509UpstreamAuthority(
    grpc::ServerContext* context,
    const localauthority_v1::TaintX509UpstreamAuthorityRequest* request,
    localauthority_v1::TaintX509UpstreamAuthorityResponse*) {
  return UpstreamChange(authority_, *context, request->subject_key_id());
}

grpc::Status LocalAuthorityService::RevokeX509Authority(
    grpc::ServerContext* context,
    const localauthority_v1::RevokeX509AuthorityRequest* request,
    localauthority_v1::RevokeX509AuthorityResponse* response) {
  return ForOperator(
      authority_, *context,
      [request](ca::CaManager& ca) {
        return ca.RevokeAuthority(Kind::kX509, request->authority_id());
      },
      response->mutable_revoked_authority());
}

grpc::Status LocalAuthorityService::RevokeX509UpstreamAuthority(
    grpc::ServerContext* context,
    const localauthority_v1::RevokeX509UpstreamAuthorityRequest* request,
    localauthority_v1::RevokeX509UpstreamAuthorityResponse*) {
  return UpstreamChange(authority_, *context, request->subject_key_id());
}

}  // namespace trellis::identity::api
