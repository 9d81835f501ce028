// Where a component records its metrics: the registry it is given (the one
// trellisd serves on /metrics), or, without one, a registry of its own that
// nobody scrapes (tests and tools), so that recording needs no checks.
#ifndef TRELLIS_METRICS_REGISTRY_H_
#define TRELLIS_METRICS_REGISTRY_H_

#include <memory>

#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace trellis::metrics {

// Latency buckets (seconds) of request metrics: 100 us to 10 s.
inline const prometheus::Histogram::BucketBoundaries& LatencyBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{
          0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
  return *kBuckets;
}

class RegistryOrOwn {
 public:
  explicit RegistryOrOwn(prometheus::Registry* given)
      : own_(given == nullptr ? std::make_shared<prometheus::Registry>()
                              : nullptr),
        registry_(given == nullptr ? own_.get() : given) {}

  prometheus::Registry& get() const { return *registry_; }

  // Keeps a registry of its own alive (null for a given one, which its
  // owner keeps): for callbacks that may run after the component is gone.
  std::shared_ptr<prometheus::Registry> own() const { return own_; }

 private:
  const std::shared_ptr<prometheus::Registry> own_;
  prometheus::Registry* const registry_;
};

}  // namespace trellis::metrics

#endif  // TRELLIS_METRICS_REGISTRY_H_
