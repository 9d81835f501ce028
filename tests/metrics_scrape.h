// trellisd's /metrics as Prometheus reads it: scraped over HTTP and parsed
// by the Prometheus scraper's own parser (the metrics-check peer, which
// also lints like `promtool check metrics`).
#ifndef TRELLIS_TESTS_METRICS_SCRAPE_H_
#define TRELLIS_TESTS_METRICS_SCRAPE_H_

#include <map>
#include <string>

#include "nlohmann/json.hpp"

namespace trellis::testing {

// {"families": {name: {"type", "help", "samples": [{"labels", "value",
// "count", "sum", "buckets"}]}}, "problems": [...]}; a test failure and
// null if the scrape or the parse fails.
nlohmann::json ScrapeMetrics(int metrics_port);

// The sum over `name`'s samples whose labels include `labels` of "value"
// (counters, gauges) or "count" (histograms); 0 if none.
double MetricSum(const nlohmann::json& scrape, const std::string& name,
                 const std::map<std::string, std::string>& labels = {});

}  // namespace trellis::testing

#endif  // TRELLIS_TESTS_METRICS_SCRAPE_H_
