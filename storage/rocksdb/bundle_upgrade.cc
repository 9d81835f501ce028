#include "storage/rocksdb/bundle_upgrade.h"

#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/each_tree.h"
#include "storage/rocksdb/keys.h"
#include "storage/rocksdb/leaf_bundle.h"
#include "storage/rocksdb/root_record.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr size_t kBundlesPerBatch = 64;
constexpr size_t kBytesPerBatch = size_t{64} << 20;

// The size of the tree's latest root, or 0 without one.
absl::StatusOr<uint64_t> TreeSize(Database& db, int64_t tree_id) {
  absl::StatusOr<std::optional<LatestRootRecord>> latest =
      ReadLatestRootRecord(db, tree_id);
  if (!latest.ok()) return latest.status();
  return latest->has_value() ? (*latest)->record.tree_size : 0;
}

absl::StatusOr<uint64_t> MoveTree(Database& db, int64_t tree_id) {
  absl::StatusOr<uint64_t> size = TreeSize(db, tree_id);
  if (!size.ok()) return size.status();
  const std::string prefix = keys::Prefix(tree_id, keys::kLeaf);
  // One iterator for the whole tree: its implicit snapshot does not see
  // the deletes of earlier batches.
  std::unique_ptr<::rocksdb::Iterator> it(
      db.db()->NewIterator(::rocksdb::ReadOptions(), db.log()));
  it->Seek(prefix);
  if (!it->status().ok()) return ToAbsl(it->status());
  if (!it->Valid() || !it->key().starts_with(prefix) ||
      keys::TrailingUint64(
          absl::string_view(it->key().data(), it->key().size())) >= *size) {
    // Nothing integrated is stored per index: it must all be in bundles.
    if (*size == 0) return 0;
    std::string last;
    ::rocksdb::Status s = db.db()->Get(
        ::rocksdb::ReadOptions(), db.log(),
        keys::Bundle(tree_id, (*size - 1) / kLeavesPerBundle), &last);
    if (s.IsNotFound()) {
      return absl::DataLossError(absl::StrCat("log ", tree_id, " lacks leaf ",
                                              *size - 1, " below its size ",
                                              *size));
    }
    if (!s.ok()) return ToAbsl(s);
    return 0;
  }

  // Interrupted runs stop between whole bundles, so what is left starts a
  // bundle, and the bundle before it was written.
  uint64_t next = keys::TrailingUint64(
      absl::string_view(it->key().data(), it->key().size()));
  if (next % kLeavesPerBundle != 0) {
    return absl::DataLossError(absl::StrCat("log ", tree_id,
                                            " lacks leaves before ", next,
                                            " (below its size ", *size, ")"));
  }
  if (next > 0) {
    std::string before;
    ::rocksdb::Status s = db.db()->Get(
        ::rocksdb::ReadOptions(), db.log(),
        keys::Bundle(tree_id, next / kLeavesPerBundle - 1), &before);
    if (!s.ok()) {
      return s.IsNotFound() ? absl::DataLossError(absl::StrCat(
                                  "log ", tree_id, " lacks leaves before ",
                                  next, " (below its size ", *size, ")"))
                            : ToAbsl(s);
    }
  }

  uint64_t moved = 0;
  ::rocksdb::WriteBatch batch;
  // Values too long for bundle entries (legacy logs without bundles take
  // up to 64 MiB each) go in batches of their own, written before the
  // bundles that flag them: alone, such a record is only an unread copy
  // that a resumed run writes again.
  ::rocksdb::WriteBatch long_values;
  LeafBundle bundle;
  size_t bundles_in_batch = 0;
  auto write_long_values = [&]() -> absl::Status {
    if (long_values.Count() == 0) return absl::OkStatus();
    absl::Status s = ToAbsl(db.db()->Write(db.durable_write(), &long_values));
    long_values.Clear();
    return s;
  };
  auto write = [&]() -> absl::Status {
    if (absl::Status s = write_long_values(); !s.ok()) return s;
    bundles_in_batch = 0;
    absl::Status s = ToAbsl(db.db()->Write(db.durable_write(), &batch));
    batch.Clear();
    return s;
  };
  // Bundles are written whole, each with the deletes of its records; a
  // batch holds up to kBundlesPerBatch bundles or kBytesPerBatch bytes.
  auto finish_bundle = [&]() -> absl::Status {
    if (bundle.size() == 0) return absl::OkStatus();
    absl::Status s = PutBundle(bundle, (next - 1) / kLeavesPerBundle, tree_id,
                               db.log(), batch);
    bundle = LeafBundle();
    if (!s.ok()) return s;
    const bool batch_full = ++bundles_in_batch >= kBundlesPerBatch ||
                            batch.GetDataSize() >= kBytesPerBatch;
    return batch_full ? write() : absl::OkStatus();
  };
  for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
    const uint64_t index = keys::TrailingUint64(
        absl::string_view(it->key().data(), it->key().size()));
    if (index >= *size) break;
    if (index != next) {
      return absl::DataLossError(absl::StrCat("log ", tree_id, " lacks leaf ",
                                              next, " below its size ", *size));
    }
    trillian::LogLeaf leaf;
    if (!leaf.ParseFromArray(it->value().data(), it->value().size())) {
      return absl::DataLossError(
          absl::StrCat("leaf ", index, " of log ", tree_id, " is corrupt"));
    }
    if (absl::Status s =
            AppendLeaf(leaf, index, tree_id, db.log(), bundle, long_values);
        !s.ok()) {
      return s;
    }
    if (long_values.GetDataSize() >= kBytesPerBatch) {
      if (absl::Status s = write_long_values(); !s.ok()) return s;
    }
    batch.Delete(db.log(), it->key());
    ++moved;
    ++next;
    if (bundle.full()) {
      if (absl::Status s = finish_bundle(); !s.ok()) return s;
    }
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  if (next != *size) {
    return absl::DataLossError(absl::StrCat("log ", tree_id, " lacks leaf ",
                                            next, " below its size ", *size));
  }
  if (absl::Status s = finish_bundle(); !s.ok()) return s;
  if (batch.Count() > 0) {
    if (absl::Status s = write(); !s.ok()) return s;
  }
  // Give the space of the old records back now rather than at some later
  // compaction.
  const std::string begin = keys::Leaf(tree_id, 0);
  const std::string end = keys::Leaf(tree_id, *size);
  ::rocksdb::Slice begin_slice(begin), end_slice(end);
  if (absl::Status s =
          ToAbsl(db.db()->CompactRange(::rocksdb::CompactRangeOptions(),
                                       db.log(), &begin_slice, &end_slice));
      !s.ok()) {
    return s;
  }
  return moved;
}

}  // namespace

absl::StatusOr<uint64_t> MoveLeavesIntoBundles(Database& db) {
  return SumOverTrees(db,
                      [&](int64_t tree_id) { return MoveTree(db, tree_id); });
}

}  // namespace trellis::storage::rocksdb
