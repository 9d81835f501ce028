#include "metrics/exposition.h"

#include <algorithm>
#include <sstream>
#include <utility>

#include "prometheus/text_serializer.h"

namespace trellis::metrics {

prometheus::MetricFamily Family(std::string name, std::string help,
                                prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = std::move(name);
  family.help = std::move(help);
  family.type = type;
  return family;
}

void Sample(prometheus::MetricFamily& family, double value,
            std::vector<std::pair<std::string, std::string>> labels) {
  prometheus::ClientMetric& metric = family.metric.emplace_back();
  for (auto& [name, label_value] : labels) {
    metric.label.push_back({std::move(name), std::move(label_value)});
  }
  if (family.type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
}

std::string TextFormat(
    const std::vector<std::shared_ptr<prometheus::Collectable>>& sources) {
  std::vector<prometheus::MetricFamily> families;
  for (const auto& source : sources) {
    for (prometheus::MetricFamily& family : source->Collect()) {
      // A family with no samples yet (no labels seen) says nothing.
      if (!family.metric.empty()) families.push_back(std::move(family));
    }
  }
  std::stable_sort(
      families.begin(), families.end(),
      [](const prometheus::MetricFamily& a, const prometheus::MetricFamily& b) {
        return a.name < b.name;
      });
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, families);
  return out.str();
}

void AddMetricsRoute(
    http::Router& router,
    std::vector<std::shared_ptr<prometheus::Collectable>> sources) {
  router.Get("/metrics", [sources = std::move(sources)](
                             const http::Request&, http::Response& response) {
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = TextFormat(sources);
    response.headers.emplace_back("Cache-Control", "no-store");
  });
}

}  // namespace trellis::metrics
