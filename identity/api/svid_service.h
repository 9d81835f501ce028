// spire.api.server.svid.v1.SVID: workload X509- and JWT-SVIDs for agents;
// minting without an entry for operators.
#ifndef TRELLIS_IDENTITY_API_SVID_SERVICE_H_
#define TRELLIS_IDENTITY_API_SVID_SERVICE_H_

#include "identity/api/caller.h"
#include "identity/svid_manager.h"
#include "spire/api/server/svid/v1/svid.grpc.pb.h"

namespace trellis::identity::api {

class SvidService final : public spire::api::server::svid::v1::SVID::Service {
 public:
  SvidService(Authority authority, SvidManager* svids)
      : authority_(authority), svids_(svids) {}

  grpc::Status BatchNewX509SVID(
      grpc::ServerContext* context,
      const spire::api::server::svid::v1::BatchNewX509SVIDRequest* request,
      spire::api::server::svid::v1::BatchNewX509SVIDResponse* response)
      override;
  grpc::Status NewJWTSVID(
      grpc::ServerContext* context,
      const spire::api::server::svid::v1::NewJWTSVIDRequest* request,
      spire::api::server::svid::v1::NewJWTSVIDResponse* response) override;
  grpc::Status NewDownstreamX509CA(
      grpc::ServerContext* context,
      const spire::api::server::svid::v1::NewDownstreamX509CARequest* request,
      spire::api::server::svid::v1::NewDownstreamX509CAResponse* response)
      override;
  grpc::Status MintX509SVID(
      grpc::ServerContext* context,
      const spire::api::server::svid::v1::MintX509SVIDRequest* request,
      spire::api::server::svid::v1::MintX509SVIDResponse* response) override;
  grpc::Status MintJWTSVID(
      grpc::ServerContext* context,
      const spire::api::server::svid::v1::MintJWTSVIDRequest* request,
      spire::api::server::svid::v1::MintJWTSVIDResponse* response) override;

 private:
  const Authority authority_;
  SvidManager* const svids_;
};

}  // namespace trellis::identity::api

#endif  // TRELLIS_IDENTITY_API_SVID_SERVICE_H_
