// absl::Status <-> grpc::Status: the service layers translate with this.
// Payloads of the absl status (type URL -> serialised message) travel as
// google.rpc.Status details (grpc-status-details-bin), where clients such as
// SPIRE agents read them.
#ifndef TRELLIS_UTIL_GRPC_STATUS_H_
#define TRELLIS_UTIL_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/cord.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"

namespace trellis {

inline grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(s.code());
  std::string message(s.message());
  google::rpc::Status details;
  s.ForEachPayload([&](absl::string_view type_url, const absl::Cord& value) {
    google::protobuf::Any* any = details.add_details();
    any->set_type_url(std::string(type_url));
    any->set_value(std::string(value));
  });
  if (details.details().empty()) return grpc::Status(code, message);
  details.set_code(static_cast<int32_t>(s.code()));
  details.set_message(message);
  return grpc::Status(code, message, details.SerializeAsString());
}

// grpc::Status -> absl::Status, on the client side: the details the server
// sent (google.rpc.Status) come back as payloads keyed by their type URL.
inline absl::Status FromGrpc(const grpc::Status& s) {
  if (s.ok()) return absl::OkStatus();
  absl::Status status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
  google::rpc::Status details;
  if (!s.error_details().empty() &&
      details.ParseFromString(s.error_details())) {
    for (const google::protobuf::Any& any : details.details()) {
      status.SetPayload(any.type_url(), absl::Cord(any.value()));
    }
  }
  return status;
}

}  // namespace trellis

#endif  // TRELLIS_UTIL_GRPC_STATUS_H_
