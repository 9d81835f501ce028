#include "logging/grpc_request_log.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "google/protobuf/descriptor.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/server_context.h"
#include "logging/log.h"

namespace trellis::logging {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

constexpr size_t kMaxHostBytes = 128;

// Services whose requests arrive as protobuf message objects (Trellis',
// Trillian's and SPIRE's generated services). Others need not: gRPC's own
// health service, for one, hands interceptors its raw ByteBuffer.
constexpr absl::string_view kProtobufServices[] = {"/trillian.", "/trellis.",
                                                   "/spire."};

bool ReadsProtobuf(const char* method) {
  if (method == nullptr) return false;
  for (absl::string_view prefix : kProtobufServices) {
    if (absl::StartsWith(method, prefix)) return true;
  }
  return false;
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
  RequestLogInterceptor(grpc::experimental::ServerRpcInfo* info,
                        const CallEnd* call_end)
      : info_(info),
        call_end_(call_end),
        start_(absl::Now()),
        seen_request_(!ReadsProtobuf(info->method())) {}

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
      if (*call_end_) {
        const char* method = info_->method();
        (*call_end_)(method != nullptr ? method : "", info_->type(),
                     status.error_code(), duration);
      }
    }
    methods->Proceed();
  }

 private:
  void Write(const grpc::Status& status, absl::Duration duration) const {
    const Level level = LevelFor(status.error_code());
    if (!Enabled(level)) return;
    const char* method = info_->method();
    grpc::ServerContextBase* context = info_->server_context();
    Log(level, "grpc",
        level == Level::kDebug   ? "call"
        : level == Level::kError ? "call failed"
                                 : "call refused",
        {{"method", method != nullptr ? method : ""},
         {"code", absl::StrCat(static_cast<int>(status.error_code()))},
         {"error", level == Level::kDebug ? "" : status.error_message()},
         {"tree", subject_.tree},
         {"host", subject_.host},
         {"spiffe_id", CallerSpiffeId(context)},
         {"duration_ms",
          absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(duration))},
         {"peer", context != nullptr ? context->peer() : ""}});
  }

  grpc::experimental::ServerRpcInfo* const info_;
  const CallEnd* const call_end_;  // The factory's, which outlives calls.
  const absl::Time start_;
  bool seen_request_;  // Or not to be read.
  CallSubject subject_;
};

class RequestLogFactory
    : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit RequestLogFactory(CallEnd call_end)
      : call_end_(std::move(call_end)) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new RequestLogInterceptor(info, &call_end_);
  }

 private:
  const CallEnd call_end_;
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
GrpcRequestLogFactory(CallEnd call_end) {
  return std::make_unique<RequestLogFactory>(std::move(call_end));
}

}  // namespace trellis::logging
