// Request metrics of trellisd's HTTP listeners:
// trellis_http_requests_total{listener, method, route, code} and
// trellis_http_request_duration_seconds{listener, route}. Routes are the
// router's patterns, so tile paths and host ids do not become series.
#ifndef TRELLIS_METRICS_HTTP_METRICS_H_
#define TRELLIS_METRICS_HTTP_METRICS_H_

#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "http/server.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace trellis::metrics {

class HttpMetrics {
 public:
  explicit HttpMetrics(prometheus::Registry& registry);

  // For http::ServerOptions::observer: counts the listener's exchanges
  // under `listener`. Must not outlive this.
  std::function<void(const http::Exchange&)> Observer(std::string listener);

  void Record(const std::string& listener, const http::Exchange& exchange);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& duration_;
  absl::Mutex mu_;
  // By listener, method, route and code.
  absl::flat_hash_map<std::string,
                      std::pair<prometheus::Counter*, prometheus::Histogram*>>
      series_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::metrics

#endif  // TRELLIS_METRICS_HTTP_METRICS_H_
