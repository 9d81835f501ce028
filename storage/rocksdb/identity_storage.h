// IdentityStorage on the embedded RocksDB ("identity" column family):
//   'e' <entry id>   -> spire.api.types.Entry
//   'a' <SPIFFE ID>  -> trellis.AttestedAgent
//   't' <token>      -> trellis.JoinTokenRecord
//   'c' <slot id>    -> trellis.CaSlot
//   's' <name>       -> setting value
#ifndef TRELLIS_STORAGE_ROCKSDB_IDENTITY_STORAGE_H_
#define TRELLIS_STORAGE_ROCKSDB_IDENTITY_STORAGE_H_

#include "absl/synchronization/mutex.h"
#include "storage/identity_storage.h"
#include "storage/rocksdb/database.h"

namespace trellis::storage::rocksdb {

class RocksIdentityStorage : public IdentityStorage {
 public:
  explicit RocksIdentityStorage(Database* db) : db_(db) {}

  absl::Status PutEntries(
      const std::vector<spire::api::types::Entry>& entries) override;
  absl::StatusOr<std::optional<spire::api::types::Entry>> GetEntry(
      const std::string& id) override;
  absl::Status DeleteEntry(const std::string& id) override;
  absl::StatusOr<std::vector<spire::api::types::Entry>> ListEntries() override;

  absl::Status PutAgent(const trellis::AttestedAgent& agent) override;
  absl::StatusOr<std::optional<trellis::AttestedAgent>> GetAgent(
      const std::string& spiffe_id) override;
  absl::Status DeleteAgent(const std::string& spiffe_id) override;
  absl::StatusOr<std::vector<trellis::AttestedAgent>> ListAgents() override;

  absl::Status PutJoinToken(const trellis::JoinTokenRecord& token) override;
  absl::StatusOr<std::optional<trellis::JoinTokenRecord>> TakeJoinToken(
      const std::string& token) override;

  absl::Status PutSetting(const std::string& name,
                          const std::string& value) override;
  absl::StatusOr<std::optional<std::string>> GetSetting(
      const std::string& name) override;

  absl::Status PutFederatedBundle(
      const spire::api::types::Bundle& bundle) override;
  absl::StatusOr<std::optional<spire::api::types::Bundle>> GetFederatedBundle(
      const std::string& trust_domain) override;
  absl::Status DeleteFederatedBundle(const std::string& trust_domain) override;
  absl::StatusOr<std::vector<spire::api::types::Bundle>> ListFederatedBundles()
      override;

  absl::Status PutCaSlots(const std::vector<trellis::CaSlot>& slots) override;
  absl::StatusOr<std::vector<trellis::CaSlot>> GetCaSlots() override;

 private:
  absl::Status PutMessage(char tag, const std::string& id,
                          const google::protobuf::MessageLite& message);
  template <typename Message>
  absl::StatusOr<std::optional<Message>> GetMessage(char tag,
                                                    const std::string& id,
                                                    const char* what);
  absl::StatusOr<std::optional<std::string>> Get(const std::string& key);
  // Deletes `key`; NOT_FOUND if it is absent.
  absl::Status DeleteExisting(const std::string& key, const char* what);
  template <typename Message>
  absl::StatusOr<std::vector<Message>> Scan(char tag, const char* what);

  Database* const db_;
  // Serialises check-then-write sequences (tokens, deletes).
  absl::Mutex write_mu_;
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_IDENTITY_STORAGE_H_
