// Serving metrics to Prometheus: the text exposition format (0.0.4) of
// every family a set of collectables holds, and the GET /metrics route that
// serves it.
#ifndef TRELLIS_METRICS_EXPOSITION_H_
#define TRELLIS_METRICS_EXPOSITION_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "http/router.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace trellis::metrics {

// Families computed when scraped (values read from elsewhere, such as
// RocksDB's properties or a server's counters).
class CallbackCollector : public prometheus::Collectable {
 public:
  using Callback = std::function<std::vector<prometheus::MetricFamily>()>;
  explicit CallbackCollector(Callback callback)
      : callback_(std::move(callback)) {}
  std::vector<prometheus::MetricFamily> Collect() const override {
    return callback_();
  }

 private:
  const Callback callback_;
};

// A family of `type` to fill with Sample().
prometheus::MetricFamily Family(std::string name, std::string help,
                                prometheus::MetricType type);
// Adds a gauge or counter sample (by the family's type) with `labels`.
void Sample(prometheus::MetricFamily& family, double value,
            std::vector<std::pair<std::string, std::string>> labels = {});

// The text format of all families of `sources`, sorted by name.
std::string TextFormat(
    const std::vector<std::shared_ptr<prometheus::Collectable>>& sources);

// GET /metrics on `router`: TextFormat(sources) as
// "text/plain; version=0.0.4".
void AddMetricsRoute(
    http::Router& router,
    std::vector<std::shared_ptr<prometheus::Collectable>> sources);

}  // namespace trellis::metrics

#endif  // TRELLIS_METRICS_EXPOSITION_H_
