#include "storage/rocksdb/database.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/statistics.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/checkpoint.h"

namespace trellis::storage::rocksdb {

absl::Status ToAbsl(const ::rocksdb::Status& s) {
  if (s.ok()) return absl::OkStatus();
  if (s.IsNotFound()) return absl::NotFoundError(s.ToString());
  if (s.IsCorruption()) return absl::DataLossError(s.ToString());
  if (s.IsInvalidArgument()) return absl::InvalidArgumentError(s.ToString());
  if (s.IsBusy() || s.IsTryAgain()) return absl::AbortedError(s.ToString());
  if (s.IsIOError()) return absl::UnavailableError(s.ToString());
  return absl::InternalError(s.ToString());
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const DatabaseOptions& options) {
  if (options.read_only) {
    struct stat info;
    if (stat(options.path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
      return absl::NotFoundError(
          absl::StrCat("no database directory ", options.path));
    }
  } else if (mkdir(options.path.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::UnavailableError(
        absl::StrCat("cannot create ", options.path, ": ", strerror(errno)));
  }

  ::rocksdb::BlockBasedTableOptions table;
  table.block_cache = ::rocksdb::NewLRUCache(options.block_cache_bytes);
  table.filter_policy.reset(::rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks stay in the table readers (all files open):
  // point lookups then never wait for them.
  table.cache_index_and_filter_blocks = false;

  ::rocksdb::ColumnFamilyOptions cf;
  cf.table_factory.reset(::rocksdb::NewBlockBasedTableFactory(table));
  cf.compression = ::rocksdb::kNoCompression;  // Hashes do not compress.
  cf.write_buffer_size = 64 << 20;

  // The log's identity and hash indexes: QueueLeaves looks up every leaf's
  // identity, and nearly all of those lookups miss. A whole-key Bloom filter
  // on the memtables answers the misses without a skiplist search (SST
  // files have theirs from the table options).
  ::rocksdb::ColumnFamilyOptions index_cf = cf;
  index_cf.memtable_prefix_bloom_size_ratio = 0.1;
  index_cf.memtable_whole_key_filtering = true;
  // Its records are small (17-byte keys, 5-byte values) and their internal
  // sequence numbers are zeroed once compacted to the last level: blocks
  // compress by about a quarter, which is a quarter of the index's bytes.
  index_cf.compression = ::rocksdb::kLZ4Compression;

  ::rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  db_options.max_background_jobs = 2;
  db_options.enable_pipelined_write = true;
  db_options.max_open_files = -1;
  // A write-ahead log file goes once every family's memtable holding its
  // writes is flushed. The index family's small records fill its memtable
  // slowly, which would keep about 2 GB of logs (4x all write buffers) on
  // disk; past this bound the families pinning the oldest file flush.
  db_options.max_total_wal_size = uint64_t{256} << 20;
  if (options.env != nullptr) db_options.env = options.env;
  // Counters only (block cache hits, stall time, syncs): each is a per-core
  // atomic add; histograms and timers would cost clock reads on every call.
  db_options.statistics = ::rocksdb::CreateDBStatistics();
  db_options.statistics->set_stats_level(
      ::rocksdb::StatsLevel::kExceptHistogramOrTimers);

  std::vector<::rocksdb::ColumnFamilyDescriptor> families = {
      {::rocksdb::kDefaultColumnFamilyName, cf},
      {"trees", cf},
      {"log", cf},
      {"map", cf},
      {"attest", cf},
      {"identity", cf},
      {"gta", cf},
      {"witness", cf},
      {"index", index_cf},
  };
  auto database = std::unique_ptr<Database>(new Database());
  // Concurrent synced writers share one fsync (group commit).
  database->durable_.sync = options.sync_writes;
  ::rocksdb::DB* raw = nullptr;
  ::rocksdb::Status s =
      options.read_only
          ? ::rocksdb::DB::OpenForReadOnly(db_options, options.path, families,
                                           &database->handles_, &raw)
          : ::rocksdb::DB::Open(db_options, options.path, families,
                                &database->handles_, &raw);
  if (!s.ok()) return ToAbsl(s);
  database->db_.reset(raw);
  database->statistics_ = db_options.statistics;
  return database;
}

absl::Status Database::Checkpoint(const std::string& directory) const {
  struct stat info;
  if (stat(directory.c_str(), &info) == 0) {
    return absl::AlreadyExistsError(
        absl::StrCat(directory, " exists: a backup goes to a new directory"));
  }
  ::rocksdb::Checkpoint* raw = nullptr;
  if (absl::Status s = ToAbsl(::rocksdb::Checkpoint::Create(db_.get(), &raw));
      !s.ok()) {
    return s;
  }
  std::unique_ptr<::rocksdb::Checkpoint> checkpoint(raw);
  return ToAbsl(checkpoint->CreateCheckpoint(directory));
}

Database::~Database() {
  if (!db_) return;
  for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
  db_->Close();
}

}  // namespace trellis::storage::rocksdb
