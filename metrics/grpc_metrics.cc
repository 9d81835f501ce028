#include "metrics/grpc_metrics.h"

#include <utility>

#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "metrics/registry.h"

namespace trellis::metrics {
namespace {

class MetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  MetricsInterceptor(GrpcMetrics* metrics, const char* method,
                     grpc::experimental::ServerRpcInfo::Type type)
      : metrics_(metrics), method_(method), type_(type), start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_->Record(method_, type_, methods->GetSendStatus().error_code(),
                       absl::Now() - start_);
    }
    methods->Proceed();
  }

 private:
  GrpcMetrics* const metrics_;
  const char* const method_;  // Owned by the call, which outlives this.
  const grpc::experimental::ServerRpcInfo::Type type_;
  const absl::Time start_;
};

class MetricsInterceptorFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit MetricsInterceptorFactory(GrpcMetrics* metrics)
      : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    const char* method = info->method();
    return new MetricsInterceptor(metrics_, method != nullptr ? method : "",
                                  info->type());
  }

 private:
  GrpcMetrics* const metrics_;
};

}  // namespace

absl::string_view CodeName(grpc::StatusCode code) {
  static constexpr absl::string_view kNames[] = {
      "OK",
      "Canceled",
      "Unknown",
      "InvalidArgument",
      "DeadlineExceeded",
      "NotFound",
      "AlreadyExists",
      "PermissionDenied",
      "ResourceExhausted",
      "FailedPrecondition",
      "Aborted",
      "OutOfRange",
      "Unimplemented",
      "Internal",
      "Unavailable",
      "DataLoss",
      "Unauthenticated",
  };
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? kNames[index] : "Unknown";
}

GrpcMetrics::GrpcMetrics(prometheus::Registry& registry)
    : handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("gRPC calls completed on the server, by method and "
                         "status code.")
                   .Register(registry)),
      handling_seconds_(
          prometheus::BuildHistogram()
              .Name("grpc_server_handling_seconds")
              .Help("Time from a gRPC call's start to its status, "
                    "by method.")
              .Register(registry)) {}

absl::string_view TypeName(grpc::experimental::ServerRpcInfo::Type type) {
  using Type = grpc::experimental::ServerRpcInfo::Type;
  switch (type) {
    case Type::UNARY:
      return "unary";
    case Type::CLIENT_STREAMING:
      return "client_stream";
    case Type::SERVER_STREAMING:
      return "server_stream";
    case Type::BIDI_STREAMING:
      return "bidi_stream";
  }
  return "unary";
}

GrpcMetrics::PerMethod& GrpcMetrics::Method(
    absl::string_view full_method,
    grpc::experimental::ServerRpcInfo::Type type) {
  auto it = methods_.find(full_method);
  if (it != methods_.end()) return *it->second;
  if (methods_.size() >= kMaxMethods || full_method.size() < 2 ||
      full_method[0] != '/') {
    full_method = "/unknown/unknown";
    it = methods_.find(full_method);
    if (it != methods_.end()) return *it->second;
  }
  auto per_method = std::make_unique<PerMethod>();
  std::pair<absl::string_view, absl::string_view> parts =
      absl::StrSplit(full_method.substr(1), absl::MaxSplits('/', 1));
  per_method->type = std::string(TypeName(type));
  per_method->service = std::string(parts.first);
  per_method->method = std::string(parts.second);
  per_method->duration =
      &handling_seconds_.Add({{"grpc_type", per_method->type},
                              {"grpc_service", per_method->service},
                              {"grpc_method", per_method->method}},
                             LatencyBuckets());
  PerMethod& added = *per_method;
  methods_.emplace(std::string(full_method), std::move(per_method));
  return added;
}

void GrpcMetrics::Record(absl::string_view full_method,
                         grpc::experimental::ServerRpcInfo::Type type,
                         grpc::StatusCode code, absl::Duration duration) {
  const int index = static_cast<int>(code);
  const int code_index = index >= 0 && index < 17 ? index : 2;  // Unknown.
  prometheus::Histogram* histogram = nullptr;
  prometheus::Counter* counter = nullptr;
  {
    // Nearly every call finds its series: readers share the lock.
    absl::ReaderMutexLock lock(&mu_);
    auto it = methods_.find(full_method);
    if (it != methods_.end()) {
      histogram = it->second->duration;
      counter = it->second->by_code[code_index];
    }
  }
  if (counter == nullptr) {
    absl::MutexLock lock(&mu_);
    PerMethod& method = Method(full_method, type);
    if (method.by_code[code_index] == nullptr) {
      method.by_code[code_index] =
          &handled_.Add({{"grpc_type", method.type},
                         {"grpc_service", method.service},
                         {"grpc_method", method.method},
                         {"grpc_code", std::string(CodeName(code))}});
    }
    histogram = method.duration;
    counter = method.by_code[code_index];
  }
  counter->Increment();
  histogram->Observe(absl::ToDoubleSeconds(duration));
}

std::function<void(absl::string_view, grpc::experimental::ServerRpcInfo::Type,
                   grpc::StatusCode, absl::Duration)>
GrpcMetrics::Recorder() {
  return [this](absl::string_view method,
                grpc::experimental::ServerRpcInfo::Type type,
                grpc::StatusCode code, absl::Duration duration) {
    Record(method, type, code, duration);
  };
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcMetrics::InterceptorFactory() {
  return std::make_unique<MetricsInterceptorFactory>(this);
}

}  // namespace trellis::metrics
