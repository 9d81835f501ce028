#include "storage/rocksdb/identity_storage.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "rocksdb/write_batch.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr char kEntry = 'e';
constexpr char kAgent = 'a';
constexpr char kToken = 't';
constexpr char kCaSlot = 'c';
constexpr char kSetting = 's';
constexpr char kFederatedBundle = 'f';

std::string Key(char tag, const std::string& id) {
  return std::string(1, tag) + id;
}

template <typename Message>
absl::StatusOr<Message> Decode(const std::string& bytes, const char* what) {
  Message message;
  if (!message.ParseFromString(bytes)) {
    return absl::DataLossError(absl::StrCat("stored ", what, " is corrupt"));
  }
  return message;
}

}  // namespace

absl::StatusOr<std::optional<std::string>> RocksIdentityStorage::Get(
    const std::string& key) {
  std::string value;
  ::rocksdb::Status s =
      db_->db()->Get(::rocksdb::ReadOptions(), db_->identity(), key, &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return ToAbsl(s);
  return value;
}

absl::Status RocksIdentityStorage::DeleteExisting(const std::string& key,
                                                  const char* what) {
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::optional<std::string>> held = Get(key);
  if (!held.ok()) return held.status();
  if (!held->has_value()) {
    return absl::NotFoundError(absl::StrCat(what, " not found"));
  }
  return ToAbsl(db_->db()->Delete(db_->durable_write(), db_->identity(), key));
}

template <typename Message>
absl::StatusOr<std::optional<Message>> RocksIdentityStorage::GetMessage(
    char tag, const std::string& id, const char* what) {
  absl::StatusOr<std::optional<std::string>> bytes = Get(Key(tag, id));
  if (!bytes.ok()) return bytes.status();
  if (!bytes->has_value()) return std::nullopt;
  return Decode<Message>(**bytes, what);
}

template <typename Message>
absl::StatusOr<std::vector<Message>> RocksIdentityStorage::Scan(
    char tag, const char* what) {
  std::vector<Message> out;
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->identity()));
  const std::string prefix(1, tag);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    absl::StatusOr<Message> message =
        Decode<Message>(it->value().ToString(), what);
    if (!message.ok()) return message.status();
    out.push_back(std::move(*message));
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  return out;
}

absl::Status RocksIdentityStorage::PutEntries(
    const std::vector<spire::api::types::Entry>& entries) {
  ::rocksdb::WriteBatch batch;
  for (const spire::api::types::Entry& entry : entries) {
    batch.Put(db_->identity(), Key(kEntry, entry.id()),
              entry.SerializeAsString());
  }
  return ToAbsl(db_->db()->Write(db_->durable_write(), &batch));
}

absl::StatusOr<std::optional<spire::api::types::Entry>>
RocksIdentityStorage::GetEntry(const std::string& id) {
  return GetMessage<spire::api::types::Entry>(kEntry, id, "entry");
}

absl::Status RocksIdentityStorage::DeleteEntry(const std::string& id) {
  return DeleteExisting(Key(kEntry, id), "entry");
}

absl::StatusOr<std::vector<spire::api::types::Entry>>
RocksIdentityStorage::ListEntries() {
  return Scan<spire::api::types::Entry>(kEntry, "entry");
}

absl::Status RocksIdentityStorage::PutMessage(
    char tag, const std::string& id,
    const google::protobuf::MessageLite& message) {
  return ToAbsl(db_->db()->Put(db_->durable_write(), db_->identity(),
                               Key(tag, id), message.SerializeAsString()));
}

absl::Status RocksIdentityStorage::PutAgent(
    const trellis::AttestedAgent& agent) {
  return PutMessage(kAgent, agent.spiffe_id(), agent);
}

absl::StatusOr<std::optional<trellis::AttestedAgent>>
RocksIdentityStorage::GetAgent(const std::string& spiffe_id) {
  return GetMessage<trellis::AttestedAgent>(kAgent, spiffe_id, "agent");
}

absl::Status RocksIdentityStorage::DeleteAgent(const std::string& spiffe_id) {
  return DeleteExisting(Key(kAgent, spiffe_id), "agent");
}

absl::StatusOr<std::vector<trellis::AttestedAgent>>
RocksIdentityStorage::ListAgents() {
  return Scan<trellis::AttestedAgent>(kAgent, "agent");
}

absl::Status RocksIdentityStorage::PutFederatedBundle(
    const spire::api::types::Bundle& bundle) {
  return PutMessage(kFederatedBundle, bundle.trust_domain(), bundle);
}

absl::StatusOr<std::optional<spire::api::types::Bundle>>
RocksIdentityStorage::GetFederatedBundle(const std::string& trust_domain) {
  return GetMessage<spire::api::types::Bundle>(kFederatedBundle, trust_domain,
                                               "federated bundle");
}

absl::Status RocksIdentityStorage::DeleteFederatedBundle(
    const std::string& trust_domain) {
  return DeleteExisting(Key(kFederatedBundle, trust_domain),
                        "federated bundle");
}

absl::StatusOr<std::vector<spire::api::types::Bundle>>
RocksIdentityStorage::ListFederatedBundles() {
  return Scan<spire::api::types::Bundle>(kFederatedBundle, "federated bundle");
}

absl::Status RocksIdentityStorage::PutJoinToken(
    const trellis::JoinTokenRecord& token) {
  absl::MutexLock lock(&write_mu_);
  const std::string key = Key(kToken, token.token());
  absl::StatusOr<std::optional<std::string>> held = Get(key);
  if (!held.ok()) return held.status();
  if (held->has_value()) {
    return absl::AlreadyExistsError("join token already exists");
  }
  return ToAbsl(db_->db()->Put(db_->durable_write(), db_->identity(), key,
                               token.SerializeAsString()));
}

absl::StatusOr<std::optional<trellis::JoinTokenRecord>>
RocksIdentityStorage::TakeJoinToken(const std::string& token) {
  absl::MutexLock lock(&write_mu_);
  const std::string key = Key(kToken, token);
  absl::StatusOr<std::optional<std::string>> held = Get(key);
  if (!held.ok()) return held.status();
  if (!held->has_value()) return std::nullopt;
  absl::StatusOr<trellis::JoinTokenRecord> record =
      Decode<trellis::JoinTokenRecord>(**held, "join token");
  if (!record.ok()) return record.status();
  if (absl::Status s =
          ToAbsl(db_->db()->Delete(db_->durable_write(), db_->identity(), key));
      !s.ok()) {
    return s;
  }
  return *record;
}

absl::Status RocksIdentityStorage::PutSetting(const std::string& name,
                                              const std::string& value) {
  return ToAbsl(db_->db()->Put(db_->durable_write(), db_->identity(),
                               Key(kSetting, name), value));
}

absl::StatusOr<std::optional<std::string>> RocksIdentityStorage::GetSetting(
    const std::string& name) {
  return Get(Key(kSetting, name));
}

absl::Status RocksIdentityStorage::PutCaSlots(
    const std::vector<trellis::CaSlot>& slots) {
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::vector<trellis::CaSlot>> held = GetCaSlots();
  if (!held.ok()) return held.status();
  ::rocksdb::WriteBatch batch;
  for (const trellis::CaSlot& slot : *held) {
    batch.Delete(db_->identity(), Key(kCaSlot, slot.slot_id()));
  }
  for (const trellis::CaSlot& slot : slots) {
    batch.Put(db_->identity(), Key(kCaSlot, slot.slot_id()),
              slot.SerializeAsString());
  }
  return ToAbsl(db_->db()->Write(db_->durable_write(), &batch));
}

absl::StatusOr<std::vector<trellis::CaSlot>>
RocksIdentityStorage::GetCaSlots() {
  return Scan<trellis::CaSlot>(kCaSlot, "CA slot");
}

}  // namespace trellis::storage::rocksdb
