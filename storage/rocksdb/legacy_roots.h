// One-time upgrade of log root records written by Trellis versions that
// stored a plain trillian.SignedLogRoot, which storage had to parse for the
// tree size. The upgrade parses each such root once and rewrites it in the
// opaque form of root_record.h; afterwards storage never parses a root.
#ifndef TRELLIS_STORAGE_ROCKSDB_LEGACY_ROOTS_H_
#define TRELLIS_STORAGE_ROCKSDB_LEGACY_ROOTS_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "storage/rocksdb/database.h"

namespace trellis::storage::rocksdb {

// Rewrites every legacy root record of every tree, oldest revision first
// and durably, in batches, so an interrupted upgrade resumes where it
// stopped. Returns how many records were rewritten (0 for an up-to-date
// data directory, which costs one read per tree). DATA_LOSS if a legacy
// root does not parse. Call before any RocksLogStorage reads the database.
absl::StatusOr<uint64_t> UpgradeLegacyRootRecords(Database& db);

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_LEGACY_ROOTS_H_
