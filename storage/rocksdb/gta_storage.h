// GtaStorage on the embedded RocksDB ("gta" column family):
//   'p' <user id> '\0' <policy id>  -> trellis.GtaPolicy
//   'c' <user id> '\0' <cert id>    -> trellis.GtaCert
//   'r' <user id> '\0' <ref value id> -> trellis.GtaRefValue
//   's' <name>                      -> setting value
//   'k' <name> '\0' <version, 4 bytes big-endian> -> trellis.GtaKey
#ifndef TRELLIS_STORAGE_ROCKSDB_GTA_STORAGE_H_
#define TRELLIS_STORAGE_ROCKSDB_GTA_STORAGE_H_

#include "absl/synchronization/mutex.h"
#include "storage/gta_storage.h"
#include "storage/rocksdb/database.h"

namespace trellis::storage::rocksdb {

class RocksGtaStorage : public GtaStorage {
 public:
  explicit RocksGtaStorage(Database* db) : db_(db) {}

  absl::Status PutPolicy(const trellis::GtaPolicy& policy) override;
  absl::StatusOr<std::optional<trellis::GtaPolicy>> GetPolicy(
      const std::string& user_id, const std::string& id) override;
  absl::StatusOr<std::vector<trellis::GtaPolicy>> ListPolicies(
      const std::string& user_id) override;
  absl::Status DeletePolicies(const std::string& user_id,
                              const std::vector<std::string>& ids) override;
  absl::Status PutCerts(const std::vector<trellis::GtaCert>& certs) override;
  absl::StatusOr<std::vector<trellis::GtaCert>> ListCerts(
      const std::string& user_id) override;
  absl::Status DeleteCerts(const std::string& user_id,
                           const std::vector<std::string>& ids) override;
  absl::Status PutRefValue(const trellis::GtaRefValue& value) override;
  absl::StatusOr<std::vector<trellis::GtaRefValue>> ListRefValues(
      const std::string& user_id) override;
  absl::Status DeleteRefValues(const std::string& user_id,
                               const std::vector<std::string>& ids) override;
  absl::Status PutSetting(const std::string& name,
                          const std::string& value) override;
  absl::StatusOr<std::optional<std::string>> GetSetting(
      const std::string& name) override;
  absl::Status AddKey(const trellis::GtaKey& key) override;
  absl::StatusOr<std::vector<trellis::GtaKey>> ListKeys() override;
  absl::StatusOr<std::vector<std::string>> ListUsers() override;

 private:
  // Every record under `prefix`, parsed.
  template <typename Message>
  absl::StatusOr<std::vector<Message>> Scan(const std::string& prefix,
                                            const char* what);
  absl::Status Delete(char tag, const std::string& user_id,
                      const std::vector<std::string>& ids);

  Database* const db_;
  absl::Mutex key_mu_;  // AddKey's check-then-write.
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_GTA_STORAGE_H_
