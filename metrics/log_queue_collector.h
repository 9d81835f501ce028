// The logs' queues as Prometheus gauges, read when scraped (so that a stuck
// sequencer shows as a growing queue): trellis_log_queued_leaves{tree} and
// trellis_log_queued_bytes{tree} for every LOG tree not deleted.
#ifndef TRELLIS_METRICS_LOG_QUEUE_COLLECTOR_H_
#define TRELLIS_METRICS_LOG_QUEUE_COLLECTOR_H_

#include <memory>

#include "prometheus/collectable.h"
#include "storage/log_storage.h"
#include "storage/tree_storage.h"

namespace trellis::metrics {

// Both must outlive the collector's scrapes.
std::shared_ptr<prometheus::Collectable> LogQueueCollector(
    storage::TreeStorage* trees, storage::LogStorage* logs);

}  // namespace trellis::metrics

#endif  // TRELLIS_METRICS_LOG_QUEUE_COLLECTOR_H_
