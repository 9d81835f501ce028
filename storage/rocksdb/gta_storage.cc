#include "storage/rocksdb/gta_storage.h"

#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr char kPolicy = 'p';
constexpr char kCert = 'c';
constexpr char kRefValue = 'r';
constexpr char kKey = 'k';
constexpr char kSetting = 's';

// <tag> <user> '\0': the prefix of one user's records of a kind.
std::string UserPrefix(char tag, const std::string& user_id) {
  std::string key(1, tag);
  key += user_id;
  key.push_back('\0');
  return key;
}

std::string RecordKey(char tag, const std::string& user_id,
                      const std::string& id) {
  return UserPrefix(tag, user_id) + id;
}

std::string KeyKey(const trellis::GtaKey& key) {
  std::string out = UserPrefix(kKey, key.name());
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((key.version() >> shift) & 0xff));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> RocksGtaStorage::ListUsers() {
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->gta()));
  std::set<std::string> users;
  for (const char tag : {kPolicy, kCert, kRefValue}) {
    const std::string prefix(1, tag);
    // One seek per user: past the user's '\0' separator to the next one.
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);) {
      const std::string key = it->key().ToString();
      const size_t end = key.find('\0', 1);
      if (end == std::string::npos) {
        return absl::DataLossError("a GTA record key is malformed");
      }
      users.insert(key.substr(1, end - 1));
      it->Seek(key.substr(0, end) + '\x01');
    }
    if (!it->status().ok()) return ToAbsl(it->status());
  }
  return std::vector<std::string>(users.begin(), users.end());
}

template <typename Message>
absl::StatusOr<std::vector<Message>> RocksGtaStorage::Scan(
    const std::string& prefix, const char* what) {
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->gta()));
  std::vector<Message> out;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    Message message;
    if (!message.ParseFromArray(it->value().data(), it->value().size())) {
      return absl::DataLossError(
          absl::StrCat("a stored ", what, " is corrupt"));
    }
    out.push_back(std::move(message));
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  return out;
}

absl::Status RocksGtaStorage::Delete(char tag, const std::string& user_id,
                                     const std::vector<std::string>& ids) {
  ::rocksdb::WriteBatch batch;
  for (const std::string& id : ids) {
    batch.Delete(db_->gta(), RecordKey(tag, user_id, id));
  }
  return ToAbsl(db_->db()->Write(db_->durable_write(), &batch));
}

absl::Status RocksGtaStorage::PutPolicy(const trellis::GtaPolicy& policy) {
  return ToAbsl(
      db_->db()->Put(db_->durable_write(), db_->gta(),
                     RecordKey(kPolicy, policy.user_id(), policy.id()),
                     policy.SerializeAsString()));
}

absl::StatusOr<std::optional<trellis::GtaPolicy>> RocksGtaStorage::GetPolicy(
    const std::string& user_id, const std::string& id) {
  std::string value;
  ::rocksdb::Status s = db_->db()->Get(::rocksdb::ReadOptions(), db_->gta(),
                                       RecordKey(kPolicy, user_id, id), &value);
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
  return Scan<trellis::GtaPolicy>(UserPrefix(kPolicy, user_id), "policy");
}

absl::Status RocksGtaStorage::DeletePolicies(
    const std::string& user_id, const std::vector<std::string>& ids) {
  return Delete(kPolicy, user_id, ids);
}

absl::Status RocksGtaStorage::PutCerts(
    const std::vector<trellis::GtaCert>& certs) {
  ::rocksdb::WriteBatch batch;
  for (const trellis::GtaCert& cert : certs) {
    batch.Put(db_->gta(), RecordKey(kCert, cert.user_id(), cert.id()),
              cert.SerializeAsString());
  }
  return ToAbsl(db_->db()->Write(db_->durable_write(), &batch));
}

absl::StatusOr<std::vector<trellis::GtaCert>> RocksGtaStorage::ListCerts(
    const std::string& user_id) {
  return Scan<trellis::GtaCert>(UserPrefix(kCert, user_id), "certificate");
}

absl::Status RocksGtaStorage::DeleteCerts(const std::string& user_id,
                                          const std::vector<std::string>& ids) {
  return Delete(kCert, user_id, ids);
}

absl::Status RocksGtaStorage::PutRefValue(const trellis::GtaRefValue& value) {
  return ToAbsl(
      db_->db()->Put(db_->durable_write(), db_->gta(),
                     RecordKey(kRefValue, value.user_id(), value.id()),
                     value.SerializeAsString()));
}

absl::StatusOr<std::vector<trellis::GtaRefValue>>
RocksGtaStorage::ListRefValues(const std::string& user_id) {
  return Scan<trellis::GtaRefValue>(UserPrefix(kRefValue, user_id),
                                    "reference value");
}

absl::Status RocksGtaStorage::DeleteRefValues(
    const std::string& user_id, const std::vector<std::string>& ids) {
  return Delete(kRefValue, user_id, ids);
}

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
  return Scan<trellis::GtaKey>(std::string(1, kKey), "signing key");
}

}  // namespace trellis::storage::rocksdb
