#include "metrics/http_metrics.h"

#include "absl/strings/str_cat.h"
#include "metrics/registry.h"

namespace trellis::metrics {

HttpMetrics::HttpMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("trellis_http_requests_total")
                    .Help("HTTP responses, by listener, method, route pattern "
                          "and status code (the server's own refusals have "
                          "route \"unmatched\").")
                    .Register(registry)),
      duration_(prometheus::BuildHistogram()
                    .Name("trellis_http_request_duration_seconds")
                    .Help("Time from a request's arrival to its response, by "
                          "listener and route pattern.")
                    .Register(registry)) {}

std::function<void(const http::Exchange&)> HttpMetrics::Observer(
    std::string listener) {
  return [this, listener = std::move(listener)](
             const http::Exchange& exchange) { Record(listener, exchange); };
}

void HttpMetrics::Record(const std::string& listener,
                         const http::Exchange& exchange) {
  const std::string& method =
      exchange.method.empty() ? std::string("other") : exchange.method;
  const std::string& route =
      exchange.route.empty() ? std::string("unmatched") : exchange.route;
  const std::string key =
      absl::StrCat(listener, "\n", method, "\n", route, "\n", exchange.status);
  std::pair<prometheus::Counter*, prometheus::Histogram*> series;
  {
    absl::MutexLock lock(&mu_);
    auto it = series_.find(key);
    if (it == series_.end()) {
      prometheus::Counter* counter =
          &requests_.Add({{"listener", listener},
                          {"method", method},
                          {"route", route},
                          {"code", absl::StrCat(exchange.status)}});
      prometheus::Histogram* histogram = &duration_.Add(
          {{"listener", listener}, {"route", route}}, LatencyBuckets());
      it = series_.emplace(key, std::make_pair(counter, histogram)).first;
    }
    series = it->second;
  }
  series.first->Increment();
  series.second->Observe(absl::ToDoubleSeconds(exchange.duration));
}

}  // namespace trellis::metrics
