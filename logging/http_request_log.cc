#include "logging/http_request_log.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "logging/log.h"

namespace trellis::logging {

HttpObserver HttpRequestLog(std::string listener, HttpObserver next) {
  if (!Enabled(Level::kDebug)) return next;
  return [listener = std::move(listener),
          next = std::move(next)](const http::Exchange& exchange) {
    if (next) next(exchange);
    Debug("http", "request",
          {{"listener", listener},
           {"method", exchange.method},
           {"route", exchange.route},
           {"status", absl::StrCat(exchange.status)},
           {"duration_ms", absl::StrFormat("%.3f", absl::ToDoubleMilliseconds(
                                                       exchange.duration))}});
  };
}

}  // namespace trellis::logging
