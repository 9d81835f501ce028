// spire.api.server.svid.v1.SVID: workload X509-SVIDs for agents.
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

 private:
  const Authority authority_;
  SvidManager* const svids_;
};

}  // namespace trellis::identity::api

#endif  // TRELLIS_IDENTITY_API_SVID_SERVICE_H_
