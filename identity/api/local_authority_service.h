// spire.api.server.localauthority.v1.LocalAuthority: operators prepare,
// activate, taint and revoke the server's CAs and JWT keys (the rules are
// CaManager's).
#ifndef TRELLIS_IDENTITY_API_LOCAL_AUTHORITY_SERVICE_H_
#define TRELLIS_IDENTITY_API_LOCAL_AUTHORITY_SERVICE_H_

#include "identity/api/caller.h"
#include "spire/api/server/localauthority/v1/localauthority.grpc.pb.h"

namespace trellis::identity::api {

namespace localauthority_v1 = spire::api::server::localauthority::v1;

class LocalAuthorityService final
    : public localauthority_v1::LocalAuthority::Service {
 public:
  explicit LocalAuthorityService(Authority authority) : authority_(authority) {}

  grpc::Status GetJWTAuthorityState(
      grpc::ServerContext* context,
      const localauthority_v1::GetJWTAuthorityStateRequest* request,
      localauthority_v1::GetJWTAuthorityStateResponse* response) override;
  grpc::Status PrepareJWTAuthority(
      grpc::ServerContext* context,
      const localauthority_v1::PrepareJWTAuthorityRequest* request,
      localauthority_v1::PrepareJWTAuthorityResponse* response) override;
  grpc::Status ActivateJWTAuthority(
      grpc::ServerContext* context,
      const localauthority_v1::ActivateJWTAuthorityRequest* request,
      localauthority_v1::ActivateJWTAuthorityResponse* response) override;
  grpc::Status TaintJWTAuthority(
      grpc::ServerContext* context,
      const localauthority_v1::TaintJWTAuthorityRequest* request,
      localauthority_v1::TaintJWTAuthorityResponse* response) override;
  grpc::Status RevokeJWTAuthority(
      grpc::ServerContext* context,
      const localauthority_v1::RevokeJWTAuthorityRequest* request,
      localauthority_v1::RevokeJWTAuthorityResponse* response) override;

  grpc::Status GetX509AuthorityState(
      grpc::ServerContext* context,
      const localauthority_v1::GetX509AuthorityStateRequest* request,
      localauthority_v1::GetX509AuthorityStateResponse* response) override;
  grpc::Status PrepareX509Authority(
      grpc::ServerContext* context,
      const localauthority_v1::PrepareX509AuthorityRequest* request,
      localauthority_v1::PrepareX509AuthorityResponse* response) override;
  grpc::Status ActivateX509Authority(
      grpc::ServerContext* context,
      const localauthority_v1::ActivateX509AuthorityRequest* request,
      localauthority_v1::ActivateX509AuthorityResponse* response) override;
  grpc::Status TaintX509Authority(
      grpc::ServerContext* context,
      const localauthority_v1::TaintX509AuthorityRequest* request,
      localauthority_v1::TaintX509AuthorityResponse* response) override;
  grpc::Status TaintX509UpstreamAuthority(
      grpc::ServerContext* context,
      const localauthority_v1::TaintX509UpstreamAuthorityRequest* request,
      localauthority_v1::TaintX509UpstreamAuthorityResponse* response) override;
  grpc::Status RevokeX509Authority(
      grpc::ServerContext* context,
      const localauthority_v1::RevokeX509AuthorityRequest* request,
      localauthority_v1::RevokeX509AuthorityResponse* response) override;
  grpc::Status RevokeX509UpstreamAuthority(
      grpc::ServerContext* context,
      const localauthority_v1::RevokeX509UpstreamAuthorityRequest* request,
      localauthority_v1::RevokeX509UpstreamAuthorityResponse* response)
      override;

 private:
  const Authority authority_;
};

}  // namespace trellis::identity::api

#endif  // TRELLIS_IDENTITY_API_LOCAL_AUTHORITY_SERVICE_H_
