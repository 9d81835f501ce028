// spire.api.server.bundle.v1.Bundle: the trust domain's bundle for anyone
// (agents fetch it before they hold an SVID), federated bundles for agents
// and operators, and their administration (and AppendBundle) for operators.
#ifndef TRELLIS_IDENTITY_API_BUNDLE_SERVICE_H_
#define TRELLIS_IDENTITY_API_BUNDLE_SERVICE_H_

#include "identity/api/caller.h"
#include "identity/bundle_manager.h"
#include "spire/api/server/bundle/v1/bundle.grpc.pb.h"

namespace trellis::identity::api {

class BundleService final
    : public spire::api::server::bundle::v1::Bundle::Service {
 public:
  BundleService(Authority authority, BundleManager* bundles)
      : authority_(authority), bundles_(bundles) {}

  grpc::Status GetBundle(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::GetBundleRequest* request,
      spire::api::types::Bundle* response) override;
  grpc::Status AppendBundle(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::AppendBundleRequest* request,
      spire::api::types::Bundle* response) override;
  grpc::Status PublishJWTAuthority(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::PublishJWTAuthorityRequest* request,
      spire::api::server::bundle::v1::PublishJWTAuthorityResponse* response)
      override;
  grpc::Status GetFederatedBundle(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::GetFederatedBundleRequest* request,
      spire::api::types::Bundle* response) override;
  grpc::Status ListFederatedBundles(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::ListFederatedBundlesRequest*
          request,
      spire::api::server::bundle::v1::ListFederatedBundlesResponse* response)
      override;
  grpc::Status CountBundles(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::CountBundlesRequest* request,
      spire::api::server::bundle::v1::CountBundlesResponse* response) override;
  grpc::Status BatchCreateFederatedBundle(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::BatchCreateFederatedBundleRequest*
          request,
      spire::api::server::bundle::v1::BatchCreateFederatedBundleResponse*
          response) override;
  grpc::Status BatchUpdateFederatedBundle(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::BatchUpdateFederatedBundleRequest*
          request,
      spire::api::server::bundle::v1::BatchUpdateFederatedBundleResponse*
          response) override;
  grpc::Status BatchSetFederatedBundle(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::BatchSetFederatedBundleRequest*
          request,
      spire::api::server::bundle::v1::BatchSetFederatedBundleResponse* response)
      override;
  grpc::Status BatchDeleteFederatedBundle(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::BatchDeleteFederatedBundleRequest*
          request,
      spire::api::server::bundle::v1::BatchDeleteFederatedBundleResponse*
          response) override;

 private:
  const Authority authority_;
  BundleManager* const bundles_;
};

}  // namespace trellis::identity::api

#endif  // TRELLIS_IDENTITY_API_BUNDLE_SERVICE_H_
