// absl::Status -> grpc::Status: the service layers translate with this.
#ifndef TRELLIS_UTIL_GRPC_STATUS_H_
#define TRELLIS_UTIL_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace trellis {

inline grpc::Status ToGrpc(const absl::Status& s) {
  if (s.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(s.code()),
                      std::string(s.message()));
}

}  // namespace trellis

#endif  // TRELLIS_UTIL_GRPC_STATUS_H_
