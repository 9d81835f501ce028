// trillian.TrillianAdmin over gRPC: translates requests to the TreeManager.
#ifndef TRELLIS_ADMIN_ADMIN_SERVICE_H_
#define TRELLIS_ADMIN_ADMIN_SERVICE_H_

#include "admin/tree_manager.h"
#include "trillian_admin_api.grpc.pb.h"

namespace trellis::admin {

class AdminService final : public trillian::TrillianAdmin::Service {
 public:
  explicit AdminService(TreeManager* manager) : manager_(manager) {}

  grpc::Status ListTrees(grpc::ServerContext*,
                         const trillian::ListTreesRequest* request,
                         trillian::ListTreesResponse* response) override;
  grpc::Status GetTree(grpc::ServerContext*,
                       const trillian::GetTreeRequest* request,
                       trillian::Tree* response) override;
  grpc::Status CreateTree(grpc::ServerContext*,
                          const trillian::CreateTreeRequest* request,
                          trillian::Tree* response) override;
  grpc::Status UpdateTree(grpc::ServerContext*,
                          const trillian::UpdateTreeRequest* request,
                          trillian::Tree* response) override;
  grpc::Status DeleteTree(grpc::ServerContext*,
                          const trillian::DeleteTreeRequest* request,
                          trillian::Tree* response) override;
  grpc::Status UndeleteTree(grpc::ServerContext*,
                            const trillian::UndeleteTreeRequest* request,
                            trillian::Tree* response) override;

 private:
  TreeManager* const manager_;
};

}  // namespace trellis::admin

#endif  // TRELLIS_ADMIN_ADMIN_SERVICE_H_
