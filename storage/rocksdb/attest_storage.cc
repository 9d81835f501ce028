#include "storage/rocksdb/attest_storage.h"

#include "rocksdb/write_batch.h"

namespace trellis::storage::rocksdb {
namespace {

std::string HostKey(const std::string& host_id) { return "h" + host_id; }
std::string AkKey(const std::string& ak_name) { return "a" + ak_name; }
std::string EvidenceKey(const std::string& digest) { return "e" + digest; }

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
  return ToAbsl(db_->db()->Write(Database::DurableWrite(), &batch));
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

absl::StatusOr<std::optional<trellis::HostRegistration>>
RocksAttestStorage::GetHostByAkName(const std::string& ak_name) {
  absl::StatusOr<std::optional<std::string>> host_id = Get(AkKey(ak_name));
  if (!host_id.ok()) return host_id.status();
  if (!host_id->has_value()) return std::nullopt;
  return GetHost(**host_id);
}

absl::Status RocksAttestStorage::PutEvidence(const std::string& digest,
                                             const std::string& bytes) {
  return ToAbsl(db_->db()->Put(Database::DurableWrite(), db_->attest(),
                               EvidenceKey(digest), bytes));
}

absl::StatusOr<std::optional<std::string>> RocksAttestStorage::GetEvidence(
    const std::string& digest) {
  return Get(EvidenceKey(digest));
}

absl::Status RocksAttestStorage::PutSetting(const std::string& name,
                                            const std::string& value) {
  return ToAbsl(db_->db()->Put(Database::DurableWrite(), db_->attest(),
                               "s" + name, value));
}

absl::StatusOr<std::optional<std::string>> RocksAttestStorage::GetSetting(
    const std::string& name) {
  return Get("s" + name);
}

}  // namespace trellis::storage::rocksdb
