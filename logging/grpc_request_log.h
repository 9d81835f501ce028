// One debug line per gRPC call (method, status code, duration, peer): a
// server interceptor, installed only when debug lines are written, since
// every interceptor costs each call.
#ifndef TRELLIS_LOGGING_GRPC_REQUEST_LOG_H_
#define TRELLIS_LOGGING_GRPC_REQUEST_LOG_H_

#include <memory>

#include "grpcpp/support/server_interceptor.h"

namespace trellis::logging {

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
GrpcRequestLogFactory();

}  // namespace trellis::logging

#endif  // TRELLIS_LOGGING_GRPC_REQUEST_LOG_H_
