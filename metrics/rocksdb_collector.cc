#include "metrics/rocksdb_collector.h"

#include <cstdint>
#include <string>
#include <vector>

#include "metrics/exposition.h"
#include "rocksdb/statistics.h"

namespace trellis::metrics {
namespace {

using prometheus::MetricFamily;
using prometheus::MetricType;

uint64_t Property(const storage::rocksdb::Database& db,
                  ::rocksdb::ColumnFamilyHandle* family,
                  const std::string& name) {
  uint64_t value = 0;
  db.db()->GetIntProperty(family, name, &value);
  return value;
}

std::vector<MetricFamily> Collect(const storage::rocksdb::Database& db) {
  std::vector<MetricFamily> out;
  ::rocksdb::ColumnFamilyHandle* default_family = db.families().front();
  auto db_gauge = [&](const char* name, const char* help,
                      const std::string& property, double scale = 1) {
    MetricFamily family = Family(name, help, MetricType::Gauge);
    Sample(family, Property(db, default_family, property) * scale);
    out.push_back(std::move(family));
  };
  db_gauge("trellis_rocksdb_write_stopped",
           "1 while RocksDB stops writes (too many memtables or L0 files, or "
           "too many pending compaction bytes).",
           "rocksdb.is-write-stopped");
  db_gauge("trellis_rocksdb_delayed_write_rate_bytes",
           "The rate RocksDB slows writes to while it delays them (0: not "
           "delayed).",
           "rocksdb.actual-delayed-write-rate");
  db_gauge("trellis_rocksdb_running_compactions", "Compactions running now.",
           "rocksdb.num-running-compactions");
  db_gauge("trellis_rocksdb_running_flushes", "Memtable flushes running now.",
           "rocksdb.num-running-flushes");
  db_gauge("trellis_rocksdb_block_cache_usage_bytes",
           "Bytes held by the block cache.", "rocksdb.block-cache-usage");
  db_gauge("trellis_rocksdb_block_cache_capacity_bytes",
           "The block cache's capacity.", "rocksdb.block-cache-capacity");

  auto per_family = [&](const char* name, const char* help,
                        const std::string& property) {
    MetricFamily family = Family(name, help, MetricType::Gauge);
    for (::rocksdb::ColumnFamilyHandle* handle : db.families()) {
      Sample(family, Property(db, handle, property),
             {{"family", handle->GetName()}});
    }
    out.push_back(std::move(family));
  };
  per_family("trellis_rocksdb_compaction_pending",
             "1 if the column family has at least one compaction pending.",
             "rocksdb.compaction-pending");
  per_family("trellis_rocksdb_pending_compaction_bytes",
             "Estimated bytes compaction must rewrite to bring the column "
             "family's levels within their targets.",
             "rocksdb.estimate-pending-compaction-bytes");
  per_family("trellis_rocksdb_memtable_bytes",
             "Bytes of the column family's memtables (active, immutable and "
             "pinned).",
             "rocksdb.cur-size-all-mem-tables");
  per_family("trellis_rocksdb_sst_bytes",
             "Bytes of the column family's live SST files.",
             "rocksdb.live-sst-files-size");
  per_family("trellis_rocksdb_estimated_keys",
             "RocksDB's estimate of the column family's keys.",
             "rocksdb.estimate-num-keys");

  ::rocksdb::Statistics* stats = db.statistics();
  if (stats != nullptr) {
    auto ticker = [&](const char* name, const char* help,
                      ::rocksdb::Tickers which, double scale = 1) {
      MetricFamily family = Family(name, help, MetricType::Counter);
      Sample(family, stats->getTickerCount(which) * scale);
      out.push_back(std::move(family));
    };
    ticker("trellis_rocksdb_block_cache_hits_total",
           "Block reads served by the block cache.",
           ::rocksdb::BLOCK_CACHE_HIT);
    ticker("trellis_rocksdb_block_cache_misses_total",
           "Block reads the block cache missed (read from files).",
           ::rocksdb::BLOCK_CACHE_MISS);
    ticker("trellis_rocksdb_stall_seconds_total",
           "Time writers spent in RocksDB's write stalls and slowdowns.",
           ::rocksdb::STALL_MICROS, 1e-6);
    ticker("trellis_rocksdb_wal_syncs_total",
           "fsyncs of the write-ahead log (synced writes share them).",
           ::rocksdb::WAL_FILE_SYNCED);
    ticker("trellis_rocksdb_written_bytes_total",
           "Bytes written to the database by callers (before compaction).",
           ::rocksdb::BYTES_WRITTEN);
    ticker("trellis_rocksdb_compaction_written_bytes_total",
           "Bytes compactions wrote.", ::rocksdb::COMPACT_WRITE_BYTES);
  }
  return out;
}

}  // namespace

std::shared_ptr<prometheus::Collectable> RocksDbCollector(
    const storage::rocksdb::Database* db) {
  return std::make_shared<CallbackCollector>([db] { return Collect(*db); });
}

}  // namespace trellis::metrics
