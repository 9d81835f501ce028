// One-time move of the log's identity ('i') and hash ('h') index records
// from the log column family, where versions before the "index" column
// family kept them, to that family.
#ifndef TRELLIS_STORAGE_ROCKSDB_INDEX_UPGRADE_H_
#define TRELLIS_STORAGE_ROCKSDB_INDEX_UPGRADE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "storage/rocksdb/database.h"

namespace trellis::storage::rocksdb {

// Moves every tree's index records, in durable batches that each put and
// delete together, so an interrupted move resumes where it stopped and no
// record is ever in neither family. Returns how many were moved (0 for an
// up-to-date data directory: two seeks per tree). Call before any
// RocksLogStorage reads the database.
absl::StatusOr<uint64_t> MoveLogIndexRecords(Database& db);

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_INDEX_UPGRADE_H_
