// A walk over every tree a data directory holds, for start-up upgrades.
#ifndef TRELLIS_STORAGE_ROCKSDB_EACH_TREE_H_
#define TRELLIS_STORAGE_ROCKSDB_EACH_TREE_H_

#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "storage/rocksdb/database.h"

namespace trellis::storage::rocksdb {

// Calls `fn` with the id of every tree record in the trees family (other
// records there, such as keys, are skipped) and sums what it returns.
// Stops at the first error.
absl::StatusOr<uint64_t> SumOverTrees(
    Database& db, absl::FunctionRef<absl::StatusOr<uint64_t>(int64_t)> fn);

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_EACH_TREE_H_
