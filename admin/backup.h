// Backups of a data directory: taken online as RocksDB checkpoints (every
// tree at one of its signed states, since each signed root is written in
// the batch of what it signs), restored offline into a new directory, and
// checked by recomputing the trees' roots before anything serves them.
#ifndef TRELLIS_ADMIN_BACKUP_H_
#define TRELLIS_ADMIN_BACKUP_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "admin/store_verifier.h"
#include "storage/rocksdb/database.h"

namespace trellis::admin {

struct BackedUpTree {
  int64_t tree_id = 0;
  trillian::TreeType type = trillian::UNKNOWN_TREE_TYPE;
  uint64_t size = 0;  // Leaves of a log, revision of a map.
  std::string root_hash;
};

struct BackupSummary {
  std::string directory;
  uint64_t bytes = 0;
  std::vector<BackedUpTree> trees;  // With a signed root, by tree id.
};

// Checkpoints `db` into `directory` (absolute; must not exist: ALREADY_EXISTS;
// its parent must) and lists the signed roots the copy holds.
absl::StatusOr<BackupSummary> CreateBackup(const storage::rocksdb::Database& db,
                                           const std::string& directory);

// Copies the backup in `backup` into `target` (must not exist; created 0700),
// every file and the directory synced. Nothing is checked here: call
// VerifyDataDirectory on `target` before serving it.
absl::Status RestoreBackup(const std::string& backup,
                           const std::string& target);

// Opens `data_dir` read-only and runs VerifyStoredTrees on it.
absl::StatusOr<std::vector<TreeVerification>> VerifyDataDirectory(
    const std::string& data_dir, const VerifyProgress& progress = nullptr);

}  // namespace trellis::admin

#endif  // TRELLIS_ADMIN_BACKUP_H_
