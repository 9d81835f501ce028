#include "logging/grpc_request_log.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "grpcpp/server_context.h"
#include "logging/log.h"

namespace trellis::logging {
namespace {

class RequestLogInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit RequestLogInterceptor(grpc::experimental::ServerRpcInfo* info)
      : info_(info), start_(absl::Now()) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const char* method = info_->method();
      grpc::ServerContextBase* context = info_->server_context();
      Debug(
          "grpc", "call",
          {{"method", method != nullptr ? method : ""},
           {"code", absl::StrCat(static_cast<int>(status.error_code()))},
           {"duration_ms", absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(
                                                       absl::Now() - start_))},
           {"peer", context != nullptr ? context->peer() : ""}});
    }
    methods->Proceed();
  }

 private:
  grpc::experimental::ServerRpcInfo* const info_;
  const absl::Time start_;
};

class RequestLogFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestLogInterceptor(info);
  }
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcRequestLogFactory() {
  return std::make_unique<RequestLogFactory>();
}

}  // namespace trellis::logging
