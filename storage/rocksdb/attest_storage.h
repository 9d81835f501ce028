// AttestStorage on the embedded RocksDB ("attest" column family):
//   'h' <host id>   -> trellis.HostRegistration
//   'a' <AK Name>   -> host id
//   'e' <SHA-256>   -> evidence bytes
//   's' <name>      -> setting
//   'p' <id> 0x00 <version, 8 bytes big-endian> -> policy text
#ifndef TRELLIS_STORAGE_ROCKSDB_ATTEST_STORAGE_H_
#define TRELLIS_STORAGE_ROCKSDB_ATTEST_STORAGE_H_

#include "absl/synchronization/mutex.h"
#include "storage/attest_storage.h"
#include "storage/rocksdb/database.h"

namespace trellis::storage::rocksdb {

class RocksAttestStorage : public AttestStorage {
 public:
  explicit RocksAttestStorage(Database* db) : db_(db) {}

  absl::Status PutHost(const trellis::HostRegistration& host) override;
  absl::StatusOr<std::optional<trellis::HostRegistration>> GetHost(
      const std::string& host_id) override;
  absl::Status DeleteHost(const std::string& host_id) override;
  absl::StatusOr<std::optional<trellis::HostRegistration>> GetHostByAkName(
      const std::string& ak_name) override;
  absl::Status PutEvidence(const std::string& digest,
                           const std::string& bytes) override;
  absl::StatusOr<std::optional<std::string>> GetEvidence(
      const std::string& digest) override;
  absl::StatusOr<int64_t> PutPolicy(const std::string& id,
                                    const std::string& text) override;
  absl::StatusOr<std::optional<StoredPolicy>> GetPolicy(
      const std::string& id, int64_t version) override;
  absl::Status PutSetting(const std::string& name,
                          const std::string& value) override;
  absl::StatusOr<std::optional<std::string>> GetSetting(
      const std::string& name) override;

 private:
  absl::StatusOr<std::optional<std::string>> Get(const std::string& key);

  Database* const db_;
  absl::Mutex write_mu_;  // Makes PutHost's read-check-write atomic.
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_ATTEST_STORAGE_H_
