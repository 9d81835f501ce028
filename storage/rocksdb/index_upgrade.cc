#include "storage/rocksdb/index_upgrade.h"

#include <memory>
#include <string>

#include "rocksdb/write_batch.h"
#include "storage/rocksdb/keys.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr size_t kRecordsPerBatch = 10000;

absl::StatusOr<uint64_t> MovePrefix(Database& db, const std::string& prefix) {
  uint64_t moved = 0;
  while (true) {
    ::rocksdb::WriteBatch batch;
    size_t in_batch = 0;
    std::unique_ptr<::rocksdb::Iterator> it(
        db.db()->NewIterator(::rocksdb::ReadOptions(), db.log()));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix) &&
                           in_batch < kRecordsPerBatch;
         it->Next(), ++in_batch) {
      batch.Put(db.index(), it->key(), it->value());
      batch.Delete(db.log(), it->key());
    }
    if (!it->status().ok()) return ToAbsl(it->status());
    if (in_batch == 0) return moved;
    if (absl::Status s = ToAbsl(db.db()->Write(db.durable_write(), &batch));
        !s.ok()) {
      return s;
    }
    moved += in_batch;
  }
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
