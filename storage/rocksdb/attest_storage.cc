#include "storage/rocksdb/attest_storage.h"

#include "rocksdb/write_batch.h"

namespace trellis::storage::rocksdb {
namespace {

std::string HostKey(const std::string& host_id) { return "h" + host_id; }
std::string AkKey(const std::string& ak_name) { return "a" + ak_name; }
std::string EvidenceKey(const std::string& digest) { return "e" + digest; }
std::string PolicyPrefix(const std::string& id) {
  return "p" + id + std::string(1, '\0');
}
std::string PolicyKey(const std::string& id, int64_t version) {
  std::string key = PolicyPrefix(id);
  for (int i = 7; i >= 0; --i)
    key.push_back(static_cast<char>(version >> (8 * i)));
  return key;
}

}  // namespace

absl::StatusOr<std::optional<std::string>> RocksAttestStorage::Get(
    const std::string& key) {
  std::string value;
  ::rocksdb::Status s =
      db_->db()->Get(::rocksdb::ReadOptions(), db_->attest(), key, &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return ToAbsl(s);
  return value;
}

absl::Status RocksAttestStorage::PutHost(
    const trellis::HostRegistration& host) {
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::optional<std::string>> owner = Get(AkKey(host.ak_name()));
  if (!owner.ok()) return owner.status();
  if (owner->has_value() && **owner != host.host_id()) {
    return absl::AlreadyExistsError("this AK is registered to another host");
  }
  absl::StatusOr<std::optional<trellis::HostRegistration>> previous =
      GetHost(host.host_id());
  if (!previous.ok()) return previous.status();
  ::rocksdb::WriteBatch batch;
  if (previous->has_value() && (*previous)->ak_name() != host.ak_name()) {
    batch.Delete(db_->attest(), AkKey((*previous)->ak_name()));
  }
  batch.Put(db_->attest(), AkKey(host.ak_name()), host.host_id());
  batch.Put(db_->attest(), HostKey(host.host_id()), host.SerializeAsString());
  return ToAbsl(db_->db()->Write(db_->durable_write(), &batch));
}

absl::StatusOr<std::optional<trellis::HostRegistration>>
RocksAttestStorage::GetHost(const std::string& host_id) {
  absl::StatusOr<std::optional<std::string>> bytes = Get(HostKey(host_id));
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::nullopt;
  trellis::HostRegistration host;
  if (!host.ParseFromString(**bytes)) {
    return absl::DataLossError("corrupt host registration");
  }
  return host;
}

absl::Status RocksAttestStorage::DeleteHost(const std::string& host_id) {
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::optional<trellis::HostRegistration>> host =
      GetHost(host_id);
  if (!host.ok()) return host.status();
  if (!host->has_value()) {
    return absl::NotFoundError("no host " + host_id);
  }
  ::rocksdb::WriteBatch batch;
  batch.Delete(db_->attest(), AkKey((*host)->ak_name()));
  batch.Delete(db_->attest(), HostKey(host_id));
  return ToAbsl(db_->db()->Write(db_->durable_write(), &batch));
}

absl::StatusOr<std::optional<trellis::HostRegistration>>
RocksAttestStorage::GetHostByAkName(const std::string& ak_name) {
  absl::StatusOr<std::optional<std::string>> host_id = Get(AkKey(ak_name));
  if (!host_id.ok()) return host_id.status();
  if (!host_id->has_value()) return std::nullopt;
  return GetHost(**host_id);
}

absl::Status RocksAttestStorage::PutEvidence(const std::string& digest,
                                             const std::string& bytes) {
  return ToAbsl(db_->db()->Put(db_->durable_write(), db_->attest(),
                               EvidenceKey(digest), bytes));
}

absl::StatusOr<std::optional<std::string>> RocksAttestStorage::GetEvidence(
    const std::string& digest) {
  return Get(EvidenceKey(digest));
}

absl::StatusOr<int64_t> RocksAttestStorage::PutPolicy(const std::string& id,
                                                      const std::string& text) {
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::optional<StoredPolicy>> latest = GetPolicy(id, -1);
  if (!latest.ok()) return latest.status();
  const int64_t version = latest->has_value() ? (*latest)->version + 1 : 1;
  absl::Status s = ToAbsl(db_->db()->Put(db_->durable_write(), db_->attest(),
                                         PolicyKey(id, version), text));
  if (!s.ok()) return s;
  return version;
}

absl::StatusOr<std::optional<AttestStorage::StoredPolicy>>
RocksAttestStorage::GetPolicy(const std::string& id, int64_t version) {
  if (version >= 0) {
    absl::StatusOr<std::optional<std::string>> text =
        Get(PolicyKey(id, version));
    if (!text.ok()) return text.status();
    if (!text->has_value()) return std::nullopt;
    return StoredPolicy{version, **text};
  }
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->attest()));
  it->SeekForPrev(PolicyKey(id, INT64_MAX));
  if (!it->status().ok()) return ToAbsl(it->status());
  const std::string prefix = PolicyPrefix(id);
  if (!it->Valid() || !it->key().starts_with(prefix) ||
      it->key().size() != prefix.size() + 8) {
    return std::nullopt;
  }
  int64_t latest = 0;
  for (size_t i = prefix.size(); i < prefix.size() + 8; ++i) {
    latest = (latest << 8) | static_cast<uint8_t>(it->key()[i]);
  }
  return StoredPolicy{latest, it->value().ToString()};
}

absl::Status RocksAttestStorage::PutSetting(const std::string& name,
                                            const std::string& value) {
  return ToAbsl(
      db_->db()->Put(db_->durable_write(), db_->attest(), "s" + name, value));
}

absl::StatusOr<std::optional<std::string>> RocksAttestStorage::GetSetting(
    const std::string& name) {
  return Get("s" + name);
}

}  // namespace trellis::storage::rocksdb
