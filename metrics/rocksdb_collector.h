// RocksDB's health as Prometheus metrics, read when scraped: write stalls,
// pending compactions, memtable and SST bytes per column family, block
// cache hits and misses, WAL syncs. Names start with trellis_rocksdb_.
#ifndef TRELLIS_METRICS_ROCKSDB_COLLECTOR_H_
#define TRELLIS_METRICS_ROCKSDB_COLLECTOR_H_

#include <memory>

#include "prometheus/collectable.h"
#include "storage/rocksdb/database.h"

namespace trellis::metrics {

// Reads `db`, which must outlive the collector's scrapes.
std::shared_ptr<prometheus::Collectable> RocksDbCollector(
    const storage::rocksdb::Database* db);

}  // namespace trellis::metrics

#endif  // TRELLIS_METRICS_ROCKSDB_COLLECTOR_H_
