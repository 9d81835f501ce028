#include "storage/rocksdb/root_record.h"

#include <memory>
#include <utility>

#include "storage/rocksdb/keys.h"
#include "util/tls_codec.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr size_t kHeaderBytes = 1 + 8;

}  // namespace

std::string EncodeRootRecord(uint64_t tree_size,
                             const trillian::SignedLogRoot& root) {
  std::string value(1, kRootRecordFormat);
  PutUint(value, tree_size, 8);
  root.AppendToString(&value);
  return value;
}

absl::StatusOr<RootRecord> DecodeRootRecord(absl::string_view value) {
  if (value.empty() || value[0] != kRootRecordFormat) {
    return absl::FailedPreconditionError(
        "log root record in the format of an older Trellis: upgrade the data "
        "directory (trellisd does so when it starts)");
  }
  if (value.size() < kHeaderBytes) {
    return absl::DataLossError("log root record is truncated");
  }
  RootRecord record;
  record.tree_size = keys::Uint64At(value, 1);
  const absl::string_view proto = value.substr(kHeaderBytes);
  if (!record.root.ParseFromArray(proto.data(), proto.size())) {
    return absl::DataLossError("stored signed log root is corrupt");
  }
  return record;
}

absl::StatusOr<std::optional<LatestRootRecord>> ReadLatestRootRecord(
    Database& db, int64_t tree_id) {
  std::unique_ptr<::rocksdb::Iterator> it(
      db.db()->NewIterator(::rocksdb::ReadOptions(), db.log()));
  it->SeekForPrev(keys::Root(tree_id, ~uint64_t{0}));
  if (!it->status().ok()) return ToAbsl(it->status());
  if (!it->Valid() ||
      !it->key().starts_with(keys::Prefix(tree_id, keys::kRoot))) {
    return std::nullopt;
  }
  absl::StatusOr<RootRecord> record = DecodeRootRecord(
      absl::string_view(it->value().data(), it->value().size()));
  if (!record.ok()) return record.status();
  return LatestRootRecord{keys::TrailingUint64(absl::string_view(
                              it->key().data(), it->key().size())),
                          std::move(*record)};
}

}  // namespace trellis::storage::rocksdb
