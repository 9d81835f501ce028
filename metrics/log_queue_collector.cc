#include "metrics/log_queue_collector.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "metrics/exposition.h"

namespace trellis::metrics {

std::shared_ptr<prometheus::Collectable> LogQueueCollector(
    storage::TreeStorage* trees, storage::LogStorage* logs) {
  return std::make_shared<CallbackCollector>([trees, logs] {
    prometheus::MetricFamily leaves =
        Family("trellis_log_queued_leaves",
               "Leaves queued in the log and not yet integrated.",
               prometheus::MetricType::Gauge);
    prometheus::MetricFamily bytes =
        Family("trellis_log_queued_bytes",
               "Memory held by the log's queued leaves (bounded by "
               "--max_queued_bytes_per_log).",
               prometheus::MetricType::Gauge);
    absl::StatusOr<std::vector<trillian::Tree>> listed =
        trees->ListTrees(/*include_deleted=*/false);
    if (listed.ok()) {
      for (const trillian::Tree& tree : *listed) {
        if (tree.tree_type() != trillian::LOG) continue;
        absl::StatusOr<storage::QueueDepth> depth =
            logs->Queued(tree.tree_id());
        if (!depth.ok()) continue;
        const std::string id = absl::StrCat(tree.tree_id());
        Sample(leaves, static_cast<double>(depth->leaves), {{"tree", id}});
        Sample(bytes, static_cast<double>(depth->bytes), {{"tree", id}});
      }
    }
    return std::vector<prometheus::MetricFamily>{std::move(leaves),
                                                 std::move(bytes)};
  });
}

}  // namespace trellis::metrics
