#include "storage/rocksdb/witness_storage.h"

#include "absl/strings/str_cat.h"
#include "merkle/hasher.h"
#include "util/tls_codec.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr size_t kRootBytes = 32;

std::string Key(char tag, absl::string_view name) {
  return absl::StrCat(std::string(1, tag), merkle::Sha256(name));
}

}  // namespace

absl::StatusOr<std::optional<WitnessedCheckpoint>>
RocksWitnessStorage::GetCheckpoint(absl::string_view origin) {
  std::string value;
  ::rocksdb::Status s = db_->db()->Get(::rocksdb::ReadOptions(), db_->witness(),
                                       Key('c', origin), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return ToAbsl(s);
  if (value.size() < 8 + kRootBytes) {
    return absl::DataLossError("witnessed checkpoint record is corrupt");
  }
  WitnessedCheckpoint checkpoint;
  for (int i = 0; i < 8; ++i) {
    checkpoint.size = (checkpoint.size << 8) | static_cast<uint8_t>(value[i]);
  }
  checkpoint.root_hash = value.substr(8, kRootBytes);
  checkpoint.note = value.substr(8 + kRootBytes);
  return checkpoint;
}

absl::Status RocksWitnessStorage::PutCheckpoint(
    absl::string_view origin, const WitnessedCheckpoint& checkpoint) {
  if (checkpoint.root_hash.size() != kRootBytes) {
    return absl::InvalidArgumentError("root hash is not 32 bytes");
  }
  std::string value;
  PutUint(value, checkpoint.size, 8);
  absl::StrAppend(&value, checkpoint.root_hash, checkpoint.note);
  return ToAbsl(db_->db()->Put(db_->durable_write(), db_->witness(),
                               Key('c', origin), value));
}

absl::StatusOr<std::string> RocksWitnessStorage::GetWrappedKey(
    absl::string_view name) {
  std::string value;
  ::rocksdb::Status s = db_->db()->Get(::rocksdb::ReadOptions(), db_->witness(),
                                       Key('k', name), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(absl::StrCat("no witness key ", name));
  }
  if (!s.ok()) return ToAbsl(s);
  return value;
}

absl::Status RocksWitnessStorage::AddWrappedKey(absl::string_view name,
                                                absl::string_view wrapped) {
  absl::MutexLock lock(&key_mu_);
  absl::StatusOr<std::string> existing = GetWrappedKey(name);
  if (existing.ok()) {
    return absl::AlreadyExistsError(absl::StrCat("witness key ", name));
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  return ToAbsl(
      db_->db()->Put(db_->durable_write(), db_->witness(), Key('k', name),
                     ::rocksdb::Slice(wrapped.data(), wrapped.size())));
}

}  // namespace trellis::storage::rocksdb
