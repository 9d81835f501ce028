// gRPC calls in the log: one debug line per call (method, status code,
// duration, peer), and at the default level too, one error line per call
// that ends in a server fault (INTERNAL, UNKNOWN, DATA_LOSS) and one
// warning per refusal of the caller (PERMISSION_DENIED, UNAUTHENTICATED),
// at most 10 a second of each per server (burst 100; the next line of that
// level says how many were left out: callers without credentials must not
// flood the log). Each line
// names what the call concerns: the tree and host its request names
// (log_id, map_id, tree_id or tree.tree_id; host_id) and the caller's
// SPIFFE ID when it presented an X509-SVID. Never the request's content.
#ifndef TRELLIS_LOGGING_GRPC_REQUEST_LOG_H_
#define TRELLIS_LOGGING_GRPC_REQUEST_LOG_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/server_interceptor.h"

namespace trellis::logging {

// What a call concerns, as its request message names it.
struct CallSubject {
  std::string tree;  // Decimal tree id, "" if none.
  std::string host;  // At most 128 bytes of host_id, "" if none.
};
CallSubject SubjectOf(const google::protobuf::Message& request);

// Told of every finished call (metrics record it), so that one interceptor
// serves both: each interceptor costs every call.
using CallEnd = std::function<void(
    absl::string_view method, grpc::experimental::ServerRpcInfo::Type type,
    grpc::StatusCode code, absl::Duration duration)>;

struct CallLogOptions {
  // Told of every call once it ends, if set.
  CallEnd call_end;
  // Method prefixes ("/trillian.") of the services whose requests arrive
  // as protobuf message objects, which are read for their tree and host.
  // Others are not read: gRPC's health service, for one, hands
  // interceptors its raw buffer.
  std::vector<std::string> protobuf_services;
  // Whether TLS verified client certificates before the call: if not, the
  // SPIFFE ID is logged as claimed_spiffe_id (what the client sent).
  bool peers_verified = true;
  // The clock of the lines' rate limit.
  std::function<absl::Time()> clock = absl::Now;
};

// The server interceptor that writes those lines.
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcRequestLogFactory(CallLogOptions options);

}  // namespace trellis::logging

#endif  // TRELLIS_LOGGING_GRPC_REQUEST_LOG_H_
