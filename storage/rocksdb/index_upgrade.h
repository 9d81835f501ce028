// One-time upgrades of the log's identity ('i') and hash ('h') index
// records written by older versions.
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

// Rewrites identity records keyed by a whole identity hash, with one
// fixed-width position, as versions before identity_record.h wrote them,
// into records keyed as identity_record.h says. Durable batches delete the
// old records with the new record they go into, so an interrupted rewrite
// resumes; once done, a marker record saves later starts the scan.
// Returns how many were rewritten (0 for an up-to-date data directory).
// Call after MoveLogIndexRecords.
absl::StatusOr<uint64_t> ShortenIdentityRecords(Database& db);

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_INDEX_UPGRADE_H_
