// spire.api.node.Node: the legacy node API that SPIRE agents up to v0.10.x
// speak (attestation, entry sync and SVIDs over FetchX509SVID streams),
// translated to the same managers as the v1 services. Authorisation follows
// the v0.10 server (pkg/server/endpoints/node/handler.go): Attest is open,
// the rest need a verified agent SVID that passes the agent checks.
// FetchX509CASVID and PushJWTKeyUpstream (downstream SPIRE servers) are not
// served: the base class answers UNIMPLEMENTED.
#ifndef TRELLIS_IDENTITY_API_NODE_SERVICE_H_
#define TRELLIS_IDENTITY_API_NODE_SERVICE_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "identity/api/caller.h"
#include "identity/bundle_manager.h"
#include "identity/entry_manager.h"
#include "identity/svid_manager.h"
#include "spire/api/node/node.grpc.pb.h"

namespace trellis::identity::api {

class NodeService final : public spire::api::node::Node::Service {
 public:
  NodeService(Authority authority, EntryManager* entries, SvidManager* svids,
              BundleManager* bundles)
      : authority_(authority),
        entries_(entries),
        svids_(svids),
        bundles_(bundles) {}

  grpc::Status Attest(grpc::ServerContext* context,
                      grpc::ServerReaderWriter<spire::api::node::AttestResponse,
                                               spire::api::node::AttestRequest>*
                          stream) override;
  grpc::Status FetchX509SVID(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<spire::api::node::FetchX509SVIDResponse,
                               spire::api::node::FetchX509SVIDRequest>* stream)
      override;
  grpc::Status FetchJWTSVID(
      grpc::ServerContext* context,
      const spire::api::node::FetchJWTSVIDRequest* request,
      spire::api::node::FetchJWTSVIDResponse* response) override;
  grpc::Status FetchX509CASVID(
      grpc::ServerContext* context,
      const spire::api::node::FetchX509CASVIDRequest* request,
      spire::api::node::FetchX509CASVIDResponse* response) override;
  grpc::Status PushJWTKeyUpstream(
      grpc::ServerContext* context,
      const spire::api::node::PushJWTKeyUpstreamRequest* request,
      spire::api::node::PushJWTKeyUpstreamResponse* response) override;
  grpc::Status FetchBundle(
      grpc::ServerContext* context,
      const spire::api::node::FetchBundleRequest* request,
      spire::api::node::FetchBundleResponse* response) override;

 private:
  // The entries `agent_id` may mint SVIDs for, ordered by id.
  std::vector<Entry> AuthorizedEntries(
      const std::string& agent_id,
      const std::vector<Selector>& agent_selectors) const;
  // The answer to one FetchX509SVID request: SVIDs for its CSRs, the
  // agent's entries and the bundle.
  absl::Status BuildUpdate(
      const trellis::AttestedAgent& agent,
      const spire::api::node::FetchX509SVIDRequest& request,
      spire::api::node::X509SVIDUpdate* update) const;

  const Authority authority_;
  EntryManager* const entries_;
  SvidManager* const svids_;
  BundleManager* const bundles_;
};

}  // namespace trellis::identity::api

#endif  // TRELLIS_IDENTITY_API_NODE_SERVICE_H_
