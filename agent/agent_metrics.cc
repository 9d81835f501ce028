#include "agent/agent_metrics.h"

#include <vector>

#include "metrics/exposition.h"

namespace trellis::agent {

std::shared_ptr<prometheus::Collectable> AgentStateCollector(
    const Agent* agent) {
  return std::make_shared<metrics::CallbackCollector>([agent] {
    const std::shared_ptr<const Snapshot> snapshot = agent->Current();
    std::vector<prometheus::MetricFamily> families;
    auto gauge = [&](const char* name, const char* help, double value) {
      prometheus::MetricFamily family =
          metrics::Family(name, help, prometheus::MetricType::Gauge);
      metrics::Sample(family, value);
      families.push_back(std::move(family));
    };
    gauge("trellis_agent_sync_generation",
          "Changes to the agent's view (entries, SVIDs, bundles) since it "
          "started; 0 until the first sync.",
          static_cast<double>(snapshot->generation));
    gauge("trellis_agent_entries",
          "Registration entries authorized for this node.",
          static_cast<double>(snapshot->entries.size()));
    gauge("trellis_agent_workload_svids",
          "X509-SVIDs the agent holds for its workloads.",
          static_cast<double>(snapshot->svids.size()));
    gauge("trellis_agent_banned",
          "1 if the server refused this agent (it is stopping).",
          agent->banned() ? 1 : 0);
    return families;
  });
}

}  // namespace trellis::agent
