// The node agent's state as Prometheus gauges, read when scraped: the sync
// generation, entries and workload SVIDs it holds, and whether the server
// banned it (the Workload API's calls are counted by metrics::GrpcMetrics).
#ifndef TRELLIS_AGENT_AGENT_METRICS_H_
#define TRELLIS_AGENT_AGENT_METRICS_H_

#include <memory>

#include "agent/agent.h"
#include "prometheus/collectable.h"

namespace trellis::agent {

// `agent` must outlive the collector's scrapes.
std::shared_ptr<prometheus::Collectable> AgentStateCollector(
    const Agent* agent);

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_AGENT_METRICS_H_
