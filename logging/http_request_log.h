// One debug line per HTTP request (listener, method, route pattern, status,
// duration), as an http::Server observer; only when debug lines are
// written, since an observer costs every request.
#ifndef TRELLIS_LOGGING_HTTP_REQUEST_LOG_H_
#define TRELLIS_LOGGING_HTTP_REQUEST_LOG_H_

#include <functional>
#include <string>

#include "http/server.h"

namespace trellis::logging {

using HttpObserver = std::function<void(const http::Exchange&)>;

// Logs, then calls `next` (e.g. metrics) if set; just `next` unless debug
// lines are written.
HttpObserver HttpRequestLog(std::string listener, HttpObserver next = nullptr);

}  // namespace trellis::logging

#endif  // TRELLIS_LOGGING_HTTP_REQUEST_LOG_H_
