// Requests, responses and the route table of trellis's HTTP/1.1 server
// (http/server.h). Kept free of Asio and Beast so that route code compiles
// without them.
#ifndef TRELLIS_HTTP_ROUTER_H_
#define TRELLIS_HTTP_ROUTER_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace re2 {
class RE2;
}  // namespace re2

namespace trellis::http {

struct Request {
  std::string method;  // As sent, e.g. "GET".
  // The request target before '?', as sent (not percent-decoded, so that
  // "%2F" can never turn into a path separator that a pattern matches).
  std::string path;
  // After '?', raw; and decoded ('+' and %XX) into name-value pairs.
  std::string query_string;
  std::multimap<std::string, std::string> query;
  // Captures of the route pattern ("" for a group that took no part).
  std::vector<std::string> path_params;
  // The pattern of the route that took the request ("" if none did): a
  // name for the request's kind with bounded variety, for metrics.
  std::string route;
  // As received, in order; see Header().
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string peer_address;  // IP text, or "unix" for a Unix socket.
  bool via_unix_socket = false;
  // DER of the client's certificate when it presented one that verified
  // against ServerOptions::client_ca_files; empty otherwise.
  std::string peer_certificate_der;

  // The first header named `name` (case-insensitive), or "".
  std::string Header(absl::string_view name) const;
  bool HasHeader(absl::string_view name) const;
  // The first query parameter named `name` (exact), or "".
  std::string QueryParam(absl::string_view name) const;
  bool HasQueryParam(absl::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers. The server owns framing: Content-Length,
  // Transfer-Encoding and Connection set here are ignored, as are names or
  // values with control characters.
  std::vector<std::pair<std::string, std::string>> headers;
};

using Handler = std::function<void(const Request&, Response&)>;

// The body of responses the server makes itself (404, 405, 413, 503...).
using ErrorBody =
    std::function<std::string(int status, absl::string_view message)>;

// {"code":404,"status":"Not Found","error":"..."}.
std::string DefaultErrorBody(int status, absl::string_view message);

// The standard reason phrase of `status` ("Unknown" when none).
absl::string_view ReasonPhrase(int status);

// Splits "a=1&b=x%20y" into decoded pairs; malformed escapes stay literal.
std::multimap<std::string, std::string> ParseQuery(absl::string_view query);

// Routes by method and path. Patterns are RE2 (linear time) and must match
// the whole path; their capture groups become Request::path_params. The
// first route whose pattern and method match wins; HEAD falls back to GET
// routes (the server drops the body).
class Router {
 public:
  // A pattern that does not compile makes status() fail, and so
  // Server::Start; routes are code, so there is no per-call error.
  void Add(std::string method, std::string pattern, Handler handler);
  void Get(std::string pattern, Handler h) {
    Add("GET", std::move(pattern), std::move(h));
  }
  void Post(std::string pattern, Handler h) {
    Add("POST", std::move(pattern), std::move(h));
  }
  void Put(std::string pattern, Handler h) {
    Add("PUT", std::move(pattern), std::move(h));
  }
  void Delete(std::string pattern, Handler h) {
    Add("DELETE", std::move(pattern), std::move(h));
  }

  void SetErrorBody(ErrorBody error_body);

  absl::Status status() const { return status_; }

  // Runs the matching handler; 404 when no pattern matches the path, 405
  // (with Allow) when some do but not for this method. Fills
  // request.path_params. A handler that throws gets a 500 (nlohmann::json's
  // dump() throws on invalid UTF-8, for one).
  void Dispatch(Request& request, Response& response) const;

  // A response the server makes itself, with the configured error body.
  Response Error(int status, absl::string_view message) const;

 private:
  struct Route {
    std::string method;
    std::shared_ptr<const re2::RE2> pattern;
    Handler handler;
  };

  std::vector<Route> routes_;
  ErrorBody error_body_;
  absl::Status status_;
};

}  // namespace trellis::http

#endif  // TRELLIS_HTTP_ROUTER_H_
