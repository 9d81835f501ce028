#include "admin/admin_service.h"

#include "util/grpc_status.h"

namespace trellis::admin {
namespace {

grpc::Status Reply(absl::StatusOr<trillian::Tree> tree,
                   trillian::Tree* response) {
  if (!tree.ok()) return ToGrpc(tree.status());
  *response = std::move(*tree);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status AdminService::ListTrees(grpc::ServerContext*,
                                     const trillian::ListTreesRequest* request,
                                     trillian::ListTreesResponse* response) {
  absl::StatusOr<std::vector<trillian::Tree>> trees =
      manager_->ListTrees(request->show_deleted());
  if (!trees.ok()) return ToGrpc(trees.status());
  for (trillian::Tree& tree : *trees) *response->add_tree() = std::move(tree);
  return grpc::Status::OK;
}

grpc::Status AdminService::GetTree(grpc::ServerContext*,
                                   const trillian::GetTreeRequest* request,
                                   trillian::Tree* response) {
  return Reply(manager_->GetTree(request->tree_id()), response);
}

grpc::Status AdminService::CheckWriter(
    const grpc::ServerContext& context) const {
  // Trillian's model (anyone who reaches the port administers) unless an
  // operator CA is configured; the operator socket always may.
  if (!operators_->has_ca() || operators_->IsOperator(context)) {
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      "tree writes need an operator: use the operator socket "
                      "or a client certificate from the operator CA");
}

grpc::Status AdminService::CreateTree(
    grpc::ServerContext* context, const trillian::CreateTreeRequest* request,
    trillian::Tree* response) {
  if (grpc::Status denied = CheckWriter(*context); !denied.ok()) return denied;
  return Reply(manager_->CreateTree(*request), response);
}

grpc::Status AdminService::UpdateTree(
    grpc::ServerContext* context, const trillian::UpdateTreeRequest* request,
    trillian::Tree* response) {
  if (grpc::Status denied = CheckWriter(*context); !denied.ok()) return denied;
  return Reply(manager_->UpdateTree(*request), response);
}

grpc::Status AdminService::DeleteTree(
    grpc::ServerContext* context, const trillian::DeleteTreeRequest* request,
    trillian::Tree* response) {
  if (grpc::Status denied = CheckWriter(*context); !denied.ok()) return denied;
  return Reply(manager_->DeleteTree(request->tree_id()), response);
}

grpc::Status AdminService::UndeleteTree(
    grpc::ServerContext* context, const trillian::UndeleteTreeRequest* request,
    trillian::Tree* response) {
  if (grpc::Status denied = CheckWriter(*context); !denied.ok()) return denied;
  return Reply(manager_->UndeleteTree(request->tree_id()), response);
}

}  // namespace trellis::admin
