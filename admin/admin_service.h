// trillian.TrillianAdmin over gRPC: translates requests to the TreeManager.
// Reads are open (Trillian's model, loopback by default); with an operator
// CA configured, writes need an operator (admin/operator_auth.h).
#ifndef TRELLIS_ADMIN_ADMIN_SERVICE_H_
#define TRELLIS_ADMIN_ADMIN_SERVICE_H_

#include "admin/operator_auth.h"
#include "admin/tree_manager.h"
#include "trillian_admin_api.grpc.pb.h"

namespace trellis::admin {

class AdminService final : public trillian::TrillianAdmin::Service {
 public:
  AdminService(TreeManager* manager, const OperatorAuth* operators)
      : manager_(manager), operators_(operators) {}

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
  // Tree writes: PERMISSION_DENIED unless the caller may write.
  grpc::Status CheckWriter(const grpc::ServerContext& context) const;

  TreeManager* const manager_;
  const OperatorAuth* const operators_;
};

}  // namespace trellis::admin

#endif  // TRELLIS_ADMIN_ADMIN_SERVICE_H_
