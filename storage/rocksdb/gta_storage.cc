#include "storage/rocksdb/gta_storage.h"

#include <memory>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr char kPolicy = 'p';
constexpr char kKey = 'k';
constexpr char kSetting = 's';

// <tag> <user> '\0': the prefix of one user's records of a kind.
std::string UserPrefix(char tag, const std::string& user_id) {
  std::string key(1, tag);
  key += user_id;
  key.push_back('\0');
  return key;
}

std::string PolicyKey(const std::string& user_id, const std::string& id) {
  return UserPrefix(kPolicy, user_id) + id;
}

std::string KeyKey(const trellis::GtaKey& key) {
  std::string out = UserPrefix(kKey, key.name());
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((key.version() >> shift) & 0xff));
  }
  return out;
}

}  // namespace

absl::Status RocksGtaStorage::PutSetting(const std::string& name,
                                         const std::string& value) {
  return ToAbsl(db_->db()->Put(db_->durable_write(), db_->gta(),
                               std::string(1, kSetting) + name, value));
}

absl::StatusOr<std::optional<std::string>> RocksGtaStorage::GetSetting(
    const std::string& name) {
  std::string value;
  ::rocksdb::Status s = db_->db()->Get(::rocksdb::ReadOptions(), db_->gta(),
                                       std::string(1, kSetting) + name, &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return ToAbsl(s);
  return value;
}

absl::Status RocksGtaStorage::AddKey(const trellis::GtaKey& key) {
  absl::MutexLock lock(&key_mu_);
  std::string held;
  const std::string id = KeyKey(key);
  ::rocksdb::Status s =
      db_->db()->Get(::rocksdb::ReadOptions(), db_->gta(), id, &held);
  if (s.ok()) return absl::AlreadyExistsError("key version exists");
  if (!s.IsNotFound()) return ToAbsl(s);
  return ToAbsl(db_->db()->Put(db_->durable_write(), db_->gta(), id,
                               key.SerializeAsString()));
}

absl::StatusOr<std::vector<trellis::GtaKey>> RocksGtaStorage::ListKeys() {
  const std::string prefix(1, kKey);
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->gta()));
  std::vector<trellis::GtaKey> keys;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    trellis::GtaKey key;
    if (!key.ParseFromArray(it->value().data(), it->value().size())) {
      return absl::DataLossError("a stored signing key is corrupt");
    }
    keys.push_back(std::move(key));
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  return keys;
}

absl::Status RocksGtaStorage::PutPolicy(const trellis::GtaPolicy& policy) {
  return ToAbsl(db_->db()->Put(db_->durable_write(), db_->gta(),
                               PolicyKey(policy.user_id(), policy.id()),
                               policy.SerializeAsString()));
}

absl::StatusOr<std::optional<trellis::GtaPolicy>> RocksGtaStorage::GetPolicy(
    const std::string& user_id, const std::string& id) {
  std::string value;
  ::rocksdb::Status s = db_->db()->Get(::rocksdb::ReadOptions(), db_->gta(),
                                       PolicyKey(user_id, id), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return ToAbsl(s);
  trellis::GtaPolicy policy;
  if (!policy.ParseFromString(value)) {
    return absl::DataLossError(
        absl::StrCat("stored policy ", id, " is corrupt"));
  }
  return policy;
}

absl::StatusOr<std::vector<trellis::GtaPolicy>> RocksGtaStorage::ListPolicies(
    const std::string& user_id) {
  const std::string prefix = UserPrefix(kPolicy, user_id);
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->gta()));
  std::vector<trellis::GtaPolicy> policies;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    trellis::GtaPolicy policy;
    if (!policy.ParseFromArray(it->value().data(), it->value().size())) {
      return absl::DataLossError("a stored policy is corrupt");
    }
    policies.push_back(std::move(policy));
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  return policies;
}

absl::Status RocksGtaStorage::DeletePolicies(
    const std::string& user_id, const std::vector<std::string>& ids) {
  ::rocksdb::WriteBatch batch;
  for (const std::string& id : ids) {
    batch.Delete(db_->gta(), PolicyKey(user_id, id));
  }
  return ToAbsl(db_->db()->Write(db_->durable_write(), &batch));
}

}  // namespace trellis::storage::rocksdb
