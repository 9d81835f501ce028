#include "storage/rocksdb/legacy_roots.h"

#include <memory>
#include <string>

#include "merkle/log_root.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/each_tree.h"
#include "storage/rocksdb/keys.h"
#include "storage/rocksdb/root_record.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr size_t kRecordsPerBatch = 4096;

bool IsLegacy(const ::rocksdb::Slice& value) {
  return value.empty() || value[0] != kRootRecordFormat;
}

absl::string_view View(const ::rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

// True if the tree's newest root is a legacy record. Upgrades run oldest
// first and write the newest last, so a current newest record means the
// tree is done.
absl::StatusOr<bool> NeedsUpgrade(::rocksdb::Iterator& it, int64_t tree_id) {
  const std::string prefix = keys::Prefix(tree_id, keys::kRoot);
  it.SeekForPrev(keys::Root(tree_id, UINT64_MAX));
  if (!it.status().ok()) return ToAbsl(it.status());
  return it.Valid() && it.key().starts_with(prefix) && IsLegacy(it.value());
}

absl::StatusOr<uint64_t> UpgradeTree(Database& db, int64_t tree_id) {
  const std::string prefix = keys::Prefix(tree_id, keys::kRoot);
  std::unique_ptr<::rocksdb::Iterator> it(
      db.db()->NewIterator(::rocksdb::ReadOptions(), db.log()));
  uint64_t rewritten = 0;
  ::rocksdb::WriteBatch batch;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    if (!IsLegacy(it->value())) continue;
    trillian::SignedLogRoot root;
    if (!root.ParseFromArray(it->value().data(), it->value().size())) {
      return absl::DataLossError("stored signed log root is corrupt");
    }
    absl::StatusOr<merkle::LogRootV1> parsed =
        merkle::ParseLogRoot(root.log_root());
    if (!parsed.ok()) return absl::DataLossError(parsed.status().message());
    if (parsed->revision != keys::TrailingUint64(View(it->key()))) {
      return absl::DataLossError(
          "stored log root's revision differs from its key");
    }
    batch.Put(db.log(), it->key(), EncodeRootRecord(parsed->tree_size, root));
    ++rewritten;
    if (batch.Count() >= kRecordsPerBatch) {
      if (absl::Status s = ToAbsl(db.db()->Write(db.durable_write(), &batch));
          !s.ok()) {
        return s;
      }
      batch.Clear();
    }
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  if (absl::Status s = ToAbsl(db.db()->Write(db.durable_write(), &batch));
      !s.ok()) {
    return s;
  }
  return rewritten;
}

}  // namespace

absl::StatusOr<uint64_t> UpgradeLegacyRootRecords(Database& db) {
  std::unique_ptr<::rocksdb::Iterator> roots(
      db.db()->NewIterator(::rocksdb::ReadOptions(), db.log()));
  return SumOverTrees(db, [&](int64_t tree_id) -> absl::StatusOr<uint64_t> {
    absl::StatusOr<bool> needed = NeedsUpgrade(*roots, tree_id);
    if (!needed.ok()) return needed.status();
    if (!*needed) return 0;
    return UpgradeTree(db, tree_id);
  });
}

}  // namespace trellis::storage::rocksdb
