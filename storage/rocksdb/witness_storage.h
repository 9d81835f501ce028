// WitnessStorage on the embedded RocksDB, in the "witness" column family:
//   'c' SHA-256(origin) -> u64 size, 32-byte root hash, the note
//   'k' SHA-256(name)   -> wrapped witness key
#ifndef TRELLIS_STORAGE_ROCKSDB_WITNESS_STORAGE_H_
#define TRELLIS_STORAGE_ROCKSDB_WITNESS_STORAGE_H_

#include "absl/synchronization/mutex.h"
#include "storage/rocksdb/database.h"
#include "storage/witness_storage.h"

namespace trellis::storage::rocksdb {

class RocksWitnessStorage : public WitnessStorage {
 public:
  explicit RocksWitnessStorage(Database* db) : db_(db) {}

  absl::StatusOr<std::optional<WitnessedCheckpoint>> GetCheckpoint(
      absl::string_view origin) override;
  absl::Status PutCheckpoint(absl::string_view origin,
                             const WitnessedCheckpoint& checkpoint) override;
  absl::StatusOr<std::string> GetWrappedKey(absl::string_view name) override;
  absl::Status AddWrappedKey(absl::string_view name,
                             absl::string_view wrapped) override;

 private:
  Database* const db_;
  absl::Mutex key_mu_;  // AddWrappedKey's check-then-write.
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_WITNESS_STORAGE_H_
