// Per-method gRPC server metrics, named and labelled as go-grpc-prometheus
// does so that existing dashboards and alerts work:
// grpc_server_handled_total{grpc_type, grpc_service, grpc_method, grpc_code}
// and grpc_server_handling_seconds{grpc_type, grpc_service, grpc_method}.
// Recorded by a server interceptor, for every service on the server (add it
// with ServerBuilder's experimental().SetInterceptorCreators).
#ifndef TRELLIS_METRICS_GRPC_METRICS_H_
#define TRELLIS_METRICS_GRPC_METRICS_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"
#include "grpcpp/support/status.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace trellis::metrics {

class GrpcMetrics {
 public:
  explicit GrpcMetrics(prometheus::Registry& registry);

  // Counts one finished call of `full_method` ("/package.Service/Method").
  // Beyond kMaxMethods distinct names, calls count under "unknown": names
  // come from clients, and unimplemented ones must not grow the series.
  void Record(absl::string_view full_method,
              grpc::experimental::ServerRpcInfo::Type type,
              grpc::StatusCode code, absl::Duration duration);

  // An interceptor factory recording into this; it must not outlive this.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
  InterceptorFactory();

  // Record as a function, for another interceptor to call (one interceptor
  // per server: each costs every call); it must not outlive this.
  std::function<void(absl::string_view, grpc::experimental::ServerRpcInfo::Type,
                     grpc::StatusCode, absl::Duration)>
  Recorder();

  static constexpr size_t kMaxMethods = 512;

 private:
  struct PerMethod {
    std::string type;
    std::string service;
    std::string method;
    prometheus::Histogram* duration = nullptr;
    prometheus::Counter* by_code[17] = {};
  };
  PerMethod& Method(absl::string_view full_method,
                    grpc::experimental::ServerRpcInfo::Type type)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Histogram>& handling_seconds_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<PerMethod>> methods_
      ABSL_GUARDED_BY(mu_);
};

// go-grpc-prometheus's name of a status code ("OK", "ResourceExhausted").
absl::string_view CodeName(grpc::StatusCode code);
// And of a call type ("unary", "client_stream", "server_stream",
// "bidi_stream").
absl::string_view TypeName(grpc::experimental::ServerRpcInfo::Type type);

}  // namespace trellis::metrics

#endif  // TRELLIS_METRICS_GRPC_METRICS_H_
