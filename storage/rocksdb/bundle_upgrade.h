// One-time move of integrated leaves from the per-index LogLeaf records
// ('l') of versions before entry bundles into bundles and sidecars (see
// leaf_bundle.h). Records of PREORDERED_LOG leaves beyond the tree's size
// stay: they are still waiting for the tree to reach them.
#ifndef TRELLIS_STORAGE_ROCKSDB_BUNDLE_UPGRADE_H_
#define TRELLIS_STORAGE_ROCKSDB_BUNDLE_UPGRADE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "storage/rocksdb/database.h"

namespace trellis::storage::rocksdb {

// Moves every log's integrated leaves, whole bundles per durable batch that
// writes the bundles and deletes their records together, so an interrupted
// move resumes where it stopped and no leaf is ever in neither form.
// Returns how many leaves were moved (0 for an up-to-date data directory:
// two seeks per tree). DATA_LOSS if a leaf below a tree's size is missing
// or corrupt. Call after UpgradeLegacyRootRecords and before any
// RocksLogStorage reads the database.
absl::StatusOr<uint64_t> MoveLeavesIntoBundles(Database& db);

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_BUNDLE_UPGRADE_H_
