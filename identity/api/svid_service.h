// spire.api.server.svid.v1.SVID: workload X509- and JWT-SVIDs for agents;
// minting without an entry for operators.
#ifndef TRELLIS_IDENTITY_API_SVID_SERVICE_H_
#define TRELLIS_IDENTITY_API_SVID_SERVICE_H_

#include "identity/api/caller.h"
#include "identity/svid_manager.h"
#include "spire/api/server/svid/v1/svid.grpc.pb.h"
#include "util/thread_pool.h"

namespace trellis::identity::api {

namespace svid_grpc = spire::api::server::svid::v1;

// Agents' issuance calls, the hot path, use gRPC's callback API: X509
// batches run on `issue_pool` (they wait for the issuance log's synced
// write), JWT-SVIDs are finished by the log's writer once durable; the rest
// are synchronous.
class SvidService final
    : public svid_grpc::SVID::WithCallbackMethod_BatchNewX509SVID<
          svid_grpc::SVID::WithCallbackMethod_NewJWTSVID<
              svid_grpc::SVID::Service>> {
 public:
  // Issuance calls beyond `max_queued` waiting for the pool are refused
  // with RESOURCE_EXHAUSTED.
  SvidService(Authority authority, SvidManager* svids, ThreadPool* issue_pool,
              size_t max_queued)
      : authority_(authority),
        svids_(svids),
        issue_pool_(issue_pool),
        max_queued_(max_queued) {}

  grpc::ServerUnaryReactor* BatchNewX509SVID(
      grpc::CallbackServerContext* context,
      const svid_grpc::BatchNewX509SVIDRequest* request,
      svid_grpc::BatchNewX509SVIDResponse* response) override;
  grpc::ServerUnaryReactor* NewJWTSVID(
      grpc::CallbackServerContext* context,
      const svid_grpc::NewJWTSVIDRequest* request,
      svid_grpc::NewJWTSVIDResponse* response) override;
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
  grpc::Status IssueX509(const grpc::ServerContextBase& context,
                         const svid_grpc::BatchNewX509SVIDRequest& request,
                         svid_grpc::BatchNewX509SVIDResponse& response);

  const Authority authority_;
  SvidManager* const svids_;
  ThreadPool* const issue_pool_;
  const size_t max_queued_;
};

}  // namespace trellis::identity::api

#endif  // TRELLIS_IDENTITY_API_SVID_SERVICE_H_
