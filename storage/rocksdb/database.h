// The embedded RocksDB database that holds every Trellis tree.
#ifndef TRELLIS_STORAGE_ROCKSDB_DATABASE_H_
#define TRELLIS_STORAGE_ROCKSDB_DATABASE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "rocksdb/db.h"

namespace trellis::storage::rocksdb {

inline constexpr size_t kDefaultBlockCacheBytes = size_t{1} << 30;

struct DatabaseOptions {
  // Directory of the database; created (mode 0700) if missing.
  std::string path;
  // Shared block cache for all column families.
  size_t block_cache_bytes = kDefaultBlockCacheBytes;
  // Tests only. The environment RocksDB runs on (null: the default), e.g. a
  // fault-injecting file system.
  ::rocksdb::Env* env = nullptr;
  // Tests only: false acknowledges writes before their WAL is synced, which
  // the power-loss test must catch as lost acknowledged writes.
  bool sync_writes = true;
  // Open an existing database without writing to it (a backup being
  // checked); every write fails.
  bool read_only = false;
};

// Owns the DB and its column families: "trees" (metadata and keys), "log"
// (log contents), "map" (map contents), "attest" (registered hosts,
// evidence), "identity" (SPIRE entries, agents, join tokens, CAs), "gta"
// (the GTA service's per-user policies), "witness" (what Trellis as a
// witness cosigned, and its key) and "index" (the log's identity and hash
// indexes, with memtable Bloom filters for the lookups that miss). Keys are
// big-endian with the tree id first.
class Database {
 public:
  static absl::StatusOr<std::unique_ptr<Database>> Open(
      const DatabaseOptions& options);
  ~Database();

  ::rocksdb::DB* db() const { return db_.get(); }
  ::rocksdb::ColumnFamilyHandle* trees() const { return handles_[1]; }
  ::rocksdb::ColumnFamilyHandle* log() const { return handles_[2]; }
  ::rocksdb::ColumnFamilyHandle* map() const { return handles_[3]; }
  ::rocksdb::ColumnFamilyHandle* attest() const { return handles_[4]; }
  ::rocksdb::ColumnFamilyHandle* identity() const { return handles_[5]; }
  ::rocksdb::ColumnFamilyHandle* gta() const { return handles_[6]; }
  ::rocksdb::ColumnFamilyHandle* witness() const { return handles_[7]; }
  ::rocksdb::ColumnFamilyHandle* index() const { return handles_[8]; }

  // Every column family, the default one first.
  const std::vector<::rocksdb::ColumnFamilyHandle*>& families() const {
    return handles_;
  }
  // RocksDB's counters (tickers) since the database opened.
  ::rocksdb::Statistics* statistics() const { return statistics_.get(); }

  // A consistent copy of the whole database in `directory`, which must not
  // exist (its parent must): memtables are flushed first, and SST files are
  // hard-linked where the file system allows, else copied. ALREADY_EXISTS
  // if the directory exists. Every signed root is written in the batch of
  // what it signs, so the copy holds each tree at a signed state.
  absl::Status Checkpoint(const std::string& directory) const;

  // Options for writes that must survive a crash once acknowledged.
  const ::rocksdb::WriteOptions& durable_write() const { return durable_; }

 private:
  Database() = default;
  ::rocksdb::WriteOptions durable_;
  std::unique_ptr<::rocksdb::DB> db_;
  std::vector<::rocksdb::ColumnFamilyHandle*> handles_;
  std::shared_ptr<::rocksdb::Statistics> statistics_;
};

// Maps a RocksDB status to an absl one.
absl::Status ToAbsl(const ::rocksdb::Status& s);

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_DATABASE_H_
