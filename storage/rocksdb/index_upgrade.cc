#include "storage/rocksdb/index_upgrade.h"

#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "merkle/hasher.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/each_tree.h"
#include "storage/rocksdb/identity_record.h"
#include "storage/rocksdb/keys.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr size_t kRecordsPerBatch = 10000;
// A trees-family record (never 8 bytes long, unlike tree records) present
// once identity records are all keyed as identity_record.h says.
constexpr char kIdentityKeysHashed[] = "upgraded:identity-keys-hashed";

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

// An identity record of older versions: its value was one position,
// 'L' <index u64> | 'B' <seq u64> <offset u32> | 'Q' <seq u64>.
absl::StatusOr<LeafPosition> DecodeFixedPosition(absl::string_view value) {
  LeafPosition position;
  position.kind = static_cast<LeafPosition::Kind>(value.empty() ? 0 : value[0]);
  const size_t size = position.kind == LeafPosition::Kind::kQueued ? 13 : 9;
  if (value.size() != size ||
      (position.kind != LeafPosition::Kind::kIndex &&
       position.kind != LeafPosition::Kind::kQueued &&
       position.kind != LeafPosition::Kind::kLegacyQueued)) {
    return absl::DataLossError("corrupt identity record");
  }
  position.n = keys::Uint64At(value, 1);
  if (size == 13) position.offset = keys::Uint64At(value, 5) & 0xFFFFFFFF;
  return position;
}

absl::StatusOr<uint64_t> ShortenTree(Database& db, int64_t tree_id) {
  const std::string prefix = keys::Prefix(tree_id, keys::kIdentity);
  uint64_t rewritten = 0;
  ::rocksdb::WriteBatch batch;
  // The new records this batch writes: identities sharing a key share one,
  // which may also hold positions that earlier batches wrote.
  absl::flat_hash_map<std::string, std::string> records;
  auto write = [&]() -> absl::Status {
    for (const auto& [key, record] : records) {
      batch.Put(db.index(), key, record);
    }
    records.clear();
    absl::Status s = ToAbsl(db.db()->Write(db.durable_write(), &batch));
    batch.Clear();
    return s;
  };
  std::unique_ptr<::rocksdb::Iterator> it(
      db.db()->NewIterator(::rocksdb::ReadOptions(), db.index()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    // Older records are keyed by the whole 32-byte hash.
    if (it->key().size() != prefix.size() + merkle::kHashSize) continue;
    const absl::string_view identity =
        absl::string_view(it->key().data(), it->key().size())
            .substr(prefix.size());
    const std::string key = keys::Identity(tree_id, identity);
    auto [record, added] = records.try_emplace(key);
    if (added) {
      ::rocksdb::Status s = db.db()->Get(::rocksdb::ReadOptions(), db.index(),
                                         key, &record->second);
      if (!s.ok() && !s.IsNotFound()) return ToAbsl(s);
    }
    absl::StatusOr<LeafPosition> position = DecodeFixedPosition(
        absl::string_view(it->value().data(), it->value().size()));
    if (!position.ok()) return position.status();
    AppendPosition(*position, &record->second);
    batch.Delete(db.index(), it->key());
    ++rewritten;
    if (batch.Count() >= kRecordsPerBatch) {
      if (absl::Status s = write(); !s.ok()) return s;
    }
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  if (batch.Count() > 0) {
    if (absl::Status s = write(); !s.ok()) return s;
  }
  return rewritten;
}

}  // namespace

absl::StatusOr<uint64_t> ShortenIdentityRecords(Database& db) {
  // Done once per data directory: a marker saves later starts the scan of
  // every identity record.
  std::string done;
  ::rocksdb::Status s = db.db()->Get(::rocksdb::ReadOptions(), db.trees(),
                                     kIdentityKeysHashed, &done);
  if (s.ok()) return 0;
  if (!s.IsNotFound()) return ToAbsl(s);
  absl::StatusOr<uint64_t> rewritten = SumOverTrees(
      db, [&](int64_t tree_id) { return ShortenTree(db, tree_id); });
  if (!rewritten.ok()) return rewritten.status();
  if (absl::Status put = ToAbsl(db.db()->Put(db.durable_write(), db.trees(),
                                             kIdentityKeysHashed, ""));
      !put.ok()) {
    return put;
  }
  return rewritten;
}

absl::StatusOr<uint64_t> MoveLogIndexRecords(Database& db) {
  return SumOverTrees(db, [&](int64_t tree_id) -> absl::StatusOr<uint64_t> {
    uint64_t moved = 0;
    for (char tag : {keys::kIdentity, keys::kHashIndex}) {
      absl::StatusOr<uint64_t> n = MovePrefix(db, keys::Prefix(tree_id, tag));
      if (!n.ok()) return n.status();
      moved += *n;
    }
    return moved;
  });
}

}  // namespace trellis::storage::rocksdb
