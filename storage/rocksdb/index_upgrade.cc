#include "storage/rocksdb/index_upgrade.h"

#include <memory>
#include <string>

#include "rocksdb/write_batch.h"
#include "storage/rocksdb/keys.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr size_t kRecordsPerBatch = 10000;

// One iterator for the whole prefix: its implicit snapshot does not see
// the deletes of earlier batches, so nothing is stepped over twice.
absl::StatusOr<uint64_t> MovePrefix(Database& db, const std::string& prefix) {
  uint64_t moved = 0;
  ::rocksdb::WriteBatch batch;
  auto flush = [&]() -> absl::Status {
    if (batch.Count() == 0) return absl::OkStatus();
    moved += batch.Count() / 2;
    absl::Status s = ToAbsl(db.db()->Write(db.durable_write(), &batch));
    batch.Clear();
    return s;
  };
  std::unique_ptr<::rocksdb::Iterator> it(
      db.db()->NewIterator(::rocksdb::ReadOptions(), db.log()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    batch.Put(db.index(), it->key(), it->value());
    batch.Delete(db.log(), it->key());
    if (batch.Count() / 2 >= kRecordsPerBatch) {
      if (absl::Status s = flush(); !s.ok()) return s;
    }
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  if (absl::Status s = flush(); !s.ok()) return s;
  return moved;
}

}  // namespace

absl::StatusOr<uint64_t> MoveLogIndexRecords(Database& db) {
  uint64_t moved = 0;
  std::unique_ptr<::rocksdb::Iterator> trees(
      db.db()->NewIterator(::rocksdb::ReadOptions(), db.trees()));
  for (trees->SeekToFirst(); trees->Valid(); trees->Next()) {
    if (trees->key().size() != 8) continue;  // Keys and other records.
    const std::string tree = trees->key().ToString();
    for (char tag : {keys::kIdentity, keys::kHashIndex}) {
      absl::StatusOr<uint64_t> n = MovePrefix(db, tree + tag);
      if (!n.ok()) return n.status();
      moved += *n;
    }
  }
  if (!trees->status().ok()) return ToAbsl(trees->status());
  return moved;
}

}  // namespace trellis::storage::rocksdb
