#include "admin/operations_service.h"

#include "admin/backup.h"
#include "util/grpc_status.h"

namespace trellis::admin {

grpc::Status OperationsService::Backup(grpc::ServerContext* context,
                                       const trellis::BackupRequest* request,
                                       trellis::BackupResponse* response) {
  if (!operators_->IsOperator(*context)) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "Backup: operators only: use the operator socket or a "
                        "client certificate from the operator CA");
  }
  absl::StatusOr<BackupSummary> summary =
      CreateBackup(*db_, request->directory());
  if (!summary.ok()) return ToGrpc(summary.status());
  response->set_directory(summary->directory);
  response->set_bytes(summary->bytes);
  for (const BackedUpTree& tree : summary->trees) {
    trellis::BackedUpTree* out = response->add_trees();
    out->set_tree_id(tree.tree_id);
    out->set_tree_type(trillian::TreeType_Name(tree.type));
    out->set_size(tree.size);
    out->set_root_hash(tree.root_hash);
  }
  return grpc::Status::OK;
}

}  // namespace trellis::admin
