// An event-driven HTTP/1.1 server (Boost.Asio + Boost.Beast, optional TLS)
// for trellisd's JSON front ends. Connections cost a socket and a small
// session object, not a thread: idle, half-open or slow clients cannot starve
// others. Every phase of a connection has a deadline, connections are capped
// at accept (globally and per client IP), and handlers run on a bounded
// worker pool so that CPU-heavy handlers never stall I/O; when the pool's
// queue is full the server answers 503 with Retry-After.
#ifndef TRELLIS_HTTP_SERVER_H_
#define TRELLIS_HTTP_SERVER_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "http/router.h"

namespace trellis::http {

// One answered request, as metrics see it.
struct Exchange {
  // The request's method if a route took it, else "" (a client's method
  // names are not a bounded set).
  std::string method;
  std::string route;  // Request::route: the pattern, "" if none matched.
  int status = 0;
  // From the end of the request's arrival to the response handed to the
  // socket (queueing for a worker included).
  absl::Duration duration;
};

struct ServerOptions {
  // "HOST:PORT" ("[::1]:8443", "0.0.0.0:0"; port 0 picks one, see
  // Server::port()) or "unix:/path" (created 0600; a stale socket file is
  // replaced, a live one or any other file is an error).
  std::string address;

  // Both empty: plaintext. Chain PEM (leaf first) and its key PEM.
  std::string tls_cert_file;
  std::string tls_key_file;
  // PEM files of the CAs whose client certificates the TLS handshake
  // accepts; without any, clients are not asked for a certificate.
  std::vector<std::string> client_ca_files;
  // Fail the handshake of clients without such a certificate (needs
  // client_ca_files).
  bool require_client_certificate = false;

  // TCP accept to the end of the TLS handshake.
  absl::Duration handshake_timeout = absl::Seconds(5);
  // From the first byte of a request to the end of its headers. For the
  // first request of a connection the clock starts at accept (TLS: at the
  // end of the handshake): a client that connects and says nothing is not
  // an idle keep-alive connection.
  absl::Duration header_timeout = absl::Seconds(10);
  // End of the headers to the end of the body.
  absl::Duration body_timeout = absl::Seconds(30);
  // Keep-alive: the end of a response to the first byte of the next request.
  absl::Duration idle_timeout = absl::Seconds(30);
  // Writing one response (a client that never reads cannot pin a session).
  absl::Duration write_timeout = absl::Seconds(30);

  // Request line plus headers; over it the reply is 431. At most 65535
  // (Beast keeps field offsets in 16 bits).
  size_t max_header_bytes = 16 << 10;
  // Over it the reply is 413 (up front when Content-Length says so).
  size_t max_body_bytes = 8 << 20;

  // Open connections; over either cap a new connection is closed at once
  // (plaintext: after a best-effort 503). Connections over a Unix socket
  // count toward max_connections but have no per-client cap: they all share
  // the peer "unix", and the socket's 0600 mode already limits who connects.
  int max_connections = 4096;
  int max_connections_per_client = 64;  // Per peer IP (v4-mapped -> IPv4).

  // Called for every response, the server's own refusals (400, 413, 431,
  // 503) included, on the connection's I/O thread: keep it short.
  std::function<void(const Exchange&)> observer;

  int io_threads = 1;
  int worker_threads = 2;
  // Requests waiting for a worker; beyond it, 503 with Retry-After.
  int max_queued_requests = 256;
};

class Server {
 public:
  // Counters since Start, for tests and metrics.
  struct Stats {
    uint64_t accepted = 0;           // Connections taken on.
    uint64_t rejected_over_cap = 0;  // Connections closed at accept.
    uint64_t accept_errors = 0;      // E.g. EMFILE (accept retries later).
    uint64_t handshake_timeouts = 0;
    uint64_t handshake_failures = 0;  // TLS errors other than the deadline.
    uint64_t header_timeouts = 0;
    uint64_t body_timeouts = 0;
    uint64_t idle_timeouts = 0;  // Keep-alive connections closed idle.
    uint64_t write_timeouts = 0;
    uint64_t bad_requests = 0;     // 400 and 431.
    uint64_t too_large = 0;        // 413.
    uint64_t busy_503 = 0;         // Worker queue full.
    uint64_t requests = 0;         // Requests handed to a handler.
    int64_t open_connections = 0;  // Gauge.
  };

  // Binds, listens and starts the I/O and worker threads. Errors: bad
  // options or route patterns (InvalidArgument), unreadable or mismatched
  // TLS files (InvalidArgument), address in use or not bindable
  // (Unavailable), live Unix socket at the path (AlreadyExists).
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options,
                                                       Router router);

  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  ~Server();  // Stop()s.

  // The bound TCP port; 0 for a Unix socket.
  int port() const;

  // Reads the TLS certificate and key files again; new handshakes present
  // them (connections already open keep theirs). INVALID_ARGUMENT if they
  // do not load or match, and the old ones stay in use.
  absl::Status ReloadTls();

  // Closes the listener and every connection, drops queued requests, waits
  // for running handlers and joins all threads; removes the Unix socket
  // file. Idempotent. Must not be called from a handler.
  void Stop();

  Stats stats() const;

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace trellis::http

#endif  // TRELLIS_HTTP_SERVER_H_
