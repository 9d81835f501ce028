// TreeStorage on the embedded RocksDB.
#ifndef TRELLIS_STORAGE_ROCKSDB_TREE_STORAGE_H_
#define TRELLIS_STORAGE_ROCKSDB_TREE_STORAGE_H_

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/database.h"
#include "storage/tree_storage.h"

namespace trellis::storage::rocksdb {

class RocksTreeStorage : public TreeStorage {
 public:
  explicit RocksTreeStorage(Database* db) : db_(db) {}

  absl::Status CreateTree(const trillian::Tree& tree,
                          absl::string_view wrapped_private_key,
                          absl::string_view wrapped_note_key) override;
  absl::StatusOr<trillian::Tree> GetTree(int64_t tree_id) override;
  absl::StatusOr<std::vector<trillian::Tree>> ListTrees(
      bool include_deleted) override;
  absl::StatusOr<trillian::Tree> UpdateTree(
      int64_t tree_id,
      const std::function<absl::Status(trillian::Tree&)>& mutate) override;
  absl::StatusOr<std::string> GetWrappedPrivateKey(int64_t tree_id) override;
  absl::StatusOr<std::string> GetWrappedNoteKey(int64_t tree_id) override;
  absl::StatusOr<trillian::Tree> AddNoteKey(
      int64_t tree_id, absl::string_view wrapped_note_key,
      const std::function<absl::Status(trillian::Tree&)>& mutate) override;

 private:
  absl::StatusOr<trillian::Tree> ReadTree(int64_t tree_id);
  absl::StatusOr<std::string> ReadTreeRecord(int64_t tree_id,
                                             const std::string& key);
  // Applies `mutate` to the stored tree and writes it with `batch`'s other
  // records in one durable write. Needs write_mu_.
  absl::StatusOr<trillian::Tree> MutateLocked(
      int64_t tree_id,
      const std::function<absl::Status(trillian::Tree&)>& mutate,
      ::rocksdb::WriteBatch& batch) ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_);

  Database* const db_;
  // Serialises read-check-write sequences (create, update).
  absl::Mutex write_mu_;
  // Every tree read or written so far. This process is the database's only
  // writer; writers overwrite entries, readers only fill missing ones, so
  // the cache never goes stale.
  absl::Mutex cache_mu_;
  absl::flat_hash_map<int64_t, trillian::Tree> cache_
      ABSL_GUARDED_BY(cache_mu_);
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_TREE_STORAGE_H_
