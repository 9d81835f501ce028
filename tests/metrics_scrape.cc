#include "tests/metrics_scrape.h"

#include <httplib.h>

#include "gtest/gtest.h"
#include "tests/trellisd_process.h"

namespace trellis::testing {

nlohmann::json ScrapeMetrics(int metrics_port) {
  httplib::Client client("127.0.0.1", metrics_port);
  httplib::Result response = client.Get("/metrics");
  if (!response || response->status != 200) {
    ADD_FAILURE() << "GET /metrics failed";
    return nullptr;
  }
  EXPECT_EQ(response->get_header_value("Content-Type"),
            "text/plain; version=0.0.4; charset=utf-8");
  CliResult parsed =
      RunProgram(PeerBinary("metrics-check"), {}, response->body);
  if (parsed.exit_code != 0) {
    ADD_FAILURE() << "metrics-check: " << parsed.err;
    return nullptr;
  }
  nlohmann::json scrape = nlohmann::json::parse(parsed.out, nullptr, false);
  EXPECT_FALSE(scrape.is_discarded());
  return scrape;
}

double MetricSum(const nlohmann::json& scrape, const std::string& name,
                 const std::map<std::string, std::string>& labels) {
  if (!scrape.is_object()) return 0;
  auto families = scrape.find("families");
  if (families == scrape.end()) return 0;
  auto family = families->find(name);
  if (family == families->end()) return 0;
  const bool histogram = family->value("type", "") == "HISTOGRAM";
  double sum = 0;
  for (const nlohmann::json& sample :
       family->value("samples", nlohmann::json::array())) {
    const nlohmann::json sample_labels =
        sample.value("labels", nlohmann::json::object());
    bool matches = true;
    for (const auto& [key, value] : labels) {
      if (sample_labels.value(key, "") != value) matches = false;
    }
    if (!matches) continue;
    sum += histogram ? sample.value("count", 0.0) : sample.value("value", 0.0);
  }
  return sum;
}

}  // namespace trellis::testing
