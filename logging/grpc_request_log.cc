#include "logging/grpc_request_log.h"

#include <atomic>
#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/server_context.h"
#include "logging/log.h"
#include "util/rate_limiter.h"

namespace trellis::logging {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr size_t kMaxHostBytes = 128;
// Errors and SPIFFE IDs come from code and clients: bounded in the log.
constexpr size_t kMaxValueBytes = 256;
// Error and warning lines a second, and their burst.
constexpr double kLinesPerSecond = 10;
constexpr double kLineBurst = 100;

// What the factory keeps for its calls' lines.
struct Shared {
  explicit Shared(CallLogOptions given)
      : options(std::move(given)),
        lines(kLinesPerSecond, kLineBurst, /*max_keys=*/2, options.clock) {}

  bool ReadsProtobuf(const char* method) const {
    if (method == nullptr) return false;
    for (const std::string& prefix : options.protobuf_services) {
      if (absl::StartsWith(method, prefix)) return true;
    }
    return false;
  }

  const CallLogOptions options;
  RateLimiter lines;  // Per level ("error", "warning"); not debug lines.
  // Lines the limit left out, per level: errors, warnings.
  std::atomic<int64_t> left_out[2] = {0, 0};
};

// `value`, cut to kMaxValueBytes with a mark saying how much was cut (a
// cut value must not pass for another).
std::string Bounded(absl::string_view value) {
  if (value.size() <= kMaxValueBytes) return std::string(value);
  return absl::StrCat(value.substr(0, kMaxValueBytes), "...(+",
                      value.size() - kMaxValueBytes, " bytes)");
}

// A singular int64 field `name` of `message`, "" if absent or zero.
std::string IdField(const Message& message, const char* name) {
  const FieldDescriptor* field = message.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || field->is_repeated() ||
      field->cpp_type() != FieldDescriptor::CPPTYPE_INT64) {
    return "";
  }
  const int64_t id = message.GetReflection()->GetInt64(message, field);
  return id == 0 ? "" : absl::StrCat(id);
}

Level LevelFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::DATA_LOSS:
      return Level::kError;
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return Level::kWarning;
    default:
      return Level::kDebug;
  }
}

// The caller's SPIFFE ID, if it presented an X509-SVID.
std::string CallerSpiffeId(grpc::ServerContextBase* context) {
  if (context == nullptr || context->auth_context() == nullptr) return "";
  const std::vector<grpc::string_ref> ids =
      context->auth_context()->FindPropertyValues(
          GRPC_PEER_SPIFFE_ID_PROPERTY_NAME);
  return ids.empty() ? "" : std::string(ids.front().data(), ids.front().size());
}

class RequestLogInterceptor : public grpc::experimental::Interceptor {
 public:
  RequestLogInterceptor(grpc::experimental::ServerRpcInfo* info, Shared* shared)
      : info_(info),
        shared_(shared),
        start_(absl::Now()),
        seen_request_(!shared->ReadsProtobuf(info->method())) {}

  void Intercept(
      grpc::experimental::InterceptorBatchMethods* methods) override {
    using grpc::experimental::InterceptionHookPoints;
    if (!seen_request_ && methods->QueryInterceptionHookPoint(
                              InterceptionHookPoints::POST_RECV_MESSAGE)) {
      // Null when the request did not parse.
      if (const void* request = methods->GetRecvMessage()) {
        subject_ = SubjectOf(*static_cast<const Message*>(request));
      }
      seen_request_ = true;
    }
    if (methods->QueryInterceptionHookPoint(
            InterceptionHookPoints::PRE_SEND_STATUS)) {
      const grpc::Status status = methods->GetSendStatus();
      const absl::Duration duration = absl::Now() - start_;
      Write(status, duration);
      if (shared_->options.call_end) {
        const char* method = info_->method();
        shared_->options.call_end(method != nullptr ? method : "",
                                  info_->type(), status.error_code(), duration);
      }
    }
    methods->Proceed();
  }

 private:
  void Write(const grpc::Status& status, absl::Duration duration) const {
    const Level level = LevelFor(status.error_code());
    if (!Enabled(level)) return;
    const bool debug = level == Level::kDebug;
    const bool error = level == Level::kError;
    // Debug lines are the operator's choice; the others are bounded.
    std::atomic<int64_t>& left_out_counter = shared_->left_out[error ? 0 : 1];
    if (!debug && !shared_->lines.Allow(error ? "error" : "warning")) {
      left_out_counter.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    const int64_t left_out =
        debug ? 0 : left_out_counter.exchange(0, std::memory_order_relaxed);
    const char* method = info_->method();
    grpc::ServerContextBase* context = info_->server_context();
    const std::string spiffe_id = Bounded(CallerSpiffeId(context));
    const bool verified = shared_->options.peers_verified;
    Log(level, "grpc",
        debug                    ? "call"
        : level == Level::kError ? "call failed"
                                 : "call refused",
        {{"method", method != nullptr ? method : ""},
         {"code", absl::StrCat(static_cast<int>(status.error_code()))},
         {"error", debug ? "" : Bounded(status.error_message())},
         {"tree", subject_.tree},
         {"host", subject_.host},
         {verified ? "spiffe_id" : "claimed_spiffe_id", spiffe_id},
         {"duration_ms",
          absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(duration))},
         {"peer", context != nullptr ? context->peer() : ""},
         {"lines_left_out", left_out > 0 ? absl::StrCat(left_out) : ""}});
  }

  grpc::experimental::ServerRpcInfo* const info_;
  Shared* const shared_;  // The factory's, which outlives its calls.
  const absl::Time start_;
  bool seen_request_;  // Or not to be read.
  CallSubject subject_;
};

class RequestLogFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestLogFactory(CallLogOptions options)
      : shared_(std::move(options)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestLogInterceptor(info, &shared_);
  }

 private:
  Shared shared_;
};

}  // namespace

CallSubject SubjectOf(const Message& request) {
  CallSubject subject;
  for (const char* name : {"log_id", "map_id", "tree_id"}) {
    subject.tree = IdField(request, name);
    if (!subject.tree.empty()) break;
  }
  const google::protobuf::Descriptor* descriptor = request.GetDescriptor();
  const google::protobuf::Reflection* reflection = request.GetReflection();
  const FieldDescriptor* tree = descriptor->FindFieldByName("tree");
  if (subject.tree.empty() && tree != nullptr && !tree->is_repeated() &&
      tree->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE &&
      reflection->HasField(request, tree)) {
    subject.tree = IdField(reflection->GetMessage(request, tree), "tree_id");
  }
  const FieldDescriptor* host = descriptor->FindFieldByName("host_id");
  if (host != nullptr && !host->is_repeated() &&
      host->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
    subject.host =
        reflection->GetString(request, host).substr(0, kMaxHostBytes);
  }
  return subject;
}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcRequestLogFactory(CallLogOptions options) {
  return std::make_unique<RequestLogFactory>(std::move(options));
}

}  // namespace trellis::logging
