// spire.api.server.bundle.v1.Bundle: the trust domain's bundle for anyone
// (agents fetch it before they hold an SVID); federation comes later.
#ifndef TRELLIS_IDENTITY_API_BUNDLE_SERVICE_H_
#define TRELLIS_IDENTITY_API_BUNDLE_SERVICE_H_

#include "identity/api/caller.h"
#include "spire/api/server/bundle/v1/bundle.grpc.pb.h"

namespace trellis::identity::api {

class BundleService final
    : public spire::api::server::bundle::v1::Bundle::Service {
 public:
  explicit BundleService(Authority authority) : authority_(authority) {}

  grpc::Status GetBundle(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::GetBundleRequest* request,
      spire::api::types::Bundle* response) override;
  grpc::Status GetFederatedBundle(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::GetFederatedBundleRequest* request,
      spire::api::types::Bundle* response) override;
  grpc::Status CountBundles(
      grpc::ServerContext* context,
      const spire::api::server::bundle::v1::CountBundlesRequest* request,
      spire::api::server::bundle::v1::CountBundlesResponse* response) override;

 private:
  const Authority authority_;
};

}  // namespace trellis::identity::api

#endif  // TRELLIS_IDENTITY_API_BUNDLE_SERVICE_H_
