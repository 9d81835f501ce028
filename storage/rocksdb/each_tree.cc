#include "storage/rocksdb/each_tree.h"

#include <memory>

#include "storage/rocksdb/keys.h"

namespace trellis::storage::rocksdb {

absl::StatusOr<uint64_t> SumOverTrees(
    Database& db, absl::FunctionRef<absl::StatusOr<uint64_t>(int64_t)> fn) {
  uint64_t total = 0;
  std::unique_ptr<::rocksdb::Iterator> trees(
      db.db()->NewIterator(::rocksdb::ReadOptions(), db.trees()));
  for (trees->SeekToFirst(); trees->Valid(); trees->Next()) {
    if (trees->key().size() != 8) continue;  // Not a tree record.
    const auto tree_id = static_cast<int64_t>(keys::TrailingUint64(
        absl::string_view(trees->key().data(), trees->key().size())));
    absl::StatusOr<uint64_t> n = fn(tree_id);
    if (!n.ok()) return n.status();
    total += *n;
  }
  if (!trees->status().ok()) return ToAbsl(trees->status());
  return total;
}

}  // namespace trellis::storage::rocksdb
