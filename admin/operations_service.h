// trellis.Operations over gRPC: translates to the backup rules
// (admin/backup.h); operators only.
#ifndef TRELLIS_ADMIN_OPERATIONS_SERVICE_H_
#define TRELLIS_ADMIN_OPERATIONS_SERVICE_H_

#include "admin/operator_auth.h"
#include "storage/rocksdb/database.h"
#include "trellis_operations.grpc.pb.h"

namespace trellis::admin {

class OperationsService final : public trellis::Operations::Service {
 public:
  OperationsService(const storage::rocksdb::Database* db,
                    const OperatorAuth* operators)
      : db_(db), operators_(operators) {}

  grpc::Status Backup(grpc::ServerContext* context,
                      const trellis::BackupRequest* request,
                      trellis::BackupResponse* response) override;

 private:
  const storage::rocksdb::Database* const db_;
  const OperatorAuth* const operators_;
};

}  // namespace trellis::admin

#endif  // TRELLIS_ADMIN_OPERATIONS_SERVICE_H_
