#include "http/server.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "boost/asio/dispatch.hpp"
#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/local/stream_protocol.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/strand.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http.hpp"
#include "logging/log.h"
#include "util/thread_pool.h"

namespace trellis::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using unix_stream = asio::local::stream_protocol;

// How long a closing connection may take to drain what the client still
// sends (or to exchange TLS close_notify): closing a socket with unread data
// makes the kernel send RST, and a client may then lose the response
// (a 413 sent while its body is still arriving, say).
constexpr absl::Duration kLingerTime = absl::Seconds(2);
// Read size while waiting for the first byte of a request.
constexpr size_t kIdleReadSize = 4096;
// Accept errors such as EMFILE would otherwise spin the accept loop.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

std::chrono::steady_clock::duration ToChrono(absl::Duration d) {
  // Clamped so that "now + d" cannot overflow.
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      absl::ToChronoNanoseconds(std::min(d, absl::Hours(24 * 365))));
}

std::string Str(beast::string_view s) {
  return std::string(s.data(), s.size());
}

void SetCloseOnExec(int fd) {
  // Asio does not use SOCK_CLOEXEC; trellisd's children must not inherit
  // listeners or client connections.
  const int flags = fcntl(fd, F_GETFD);
  if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
}

bool IsToken(absl::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!absl::ascii_isalnum(c) && !absl::StrContains("!#$%&'*+-.^_`|~", c)) {
      return false;
    }
  }
  return true;
}

bool IsFieldValue(absl::string_view s) {
  // Beast keeps field offsets in 16 bits (and throws beyond); CR, LF and NUL
  // would split the header.
  if (s.size() > 8192) return false;
  for (char c : s) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  return true;
}

// Why a session's timer is running; the counter a firing bumps.
enum class Phase { kHandshake, kHeader, kBody, kIdle, kWrite, kLinger };

struct Counters {
  std::atomic<uint64_t> accepted{0};
  std::atomic<uint64_t> rejected_over_cap{0};
  std::atomic<uint64_t> accept_errors{0};
  std::atomic<uint64_t> handshake_timeouts{0};
  std::atomic<uint64_t> handshake_failures{0};
  std::atomic<uint64_t> header_timeouts{0};
  std::atomic<uint64_t> body_timeouts{0};
  std::atomic<uint64_t> idle_timeouts{0};
  std::atomic<uint64_t> write_timeouts{0};
  std::atomic<uint64_t> bad_requests{0};
  std::atomic<uint64_t> too_large{0};
  std::atomic<uint64_t> busy_503{0};
  std::atomic<uint64_t> requests{0};
};

}  // namespace

// The part of a session the server tracks: counted against the caps from
// accept to destruction, and closable from Stop().
class SessionBase : public std::enable_shared_from_this<SessionBase> {
 public:
  SessionBase(Server::Impl* server, std::string client, bool per_client)
      : server_(server), client_(std::move(client)), per_client_(per_client) {}
  virtual ~SessionBase();

  // Both hop onto the session's strand.
  virtual void Start() = 0;
  virtual void Close() = 0;

 protected:
  Server::Impl* const server_;
  const std::string client_;  // Peer IP, or "unix".
  const bool per_client_;     // Counted against max_connections_per_client.
};

// A certificate chain and its key, as read from PEM files.
struct TlsIdentity {
  std::shared_ptr<X509> leaf;
  std::vector<std::shared_ptr<X509>> chain;  // Without the leaf.
  std::shared_ptr<EVP_PKEY> key;
};

absl::StatusOr<std::shared_ptr<const TlsIdentity>> LoadTlsIdentity(
    const std::string& cert_file, const std::string& key_file) {
  auto identity = std::make_shared<TlsIdentity>();
  std::unique_ptr<BIO, decltype(&BIO_free)> certs(
      BIO_new_file(cert_file.c_str(), "r"), BIO_free);
  if (certs == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read TLS certificate ", cert_file));
  }
  // PEM_read_bio_X509 skips blocks of other types (a key in the same file).
  while (X509* cert =
             PEM_read_bio_X509(certs.get(), nullptr, nullptr, nullptr)) {
    std::shared_ptr<X509> held(cert, X509_free);
    if (identity->leaf == nullptr) {
      identity->leaf = std::move(held);
    } else {
      identity->chain.push_back(std::move(held));
    }
  }
  ERR_clear_error();  // The loop ends on "no start line".
  std::unique_ptr<BIO, decltype(&BIO_free)> key(
      BIO_new_file(key_file.c_str(), "r"), BIO_free);
  EVP_PKEY* pkey = key == nullptr ? nullptr
                                  : PEM_read_bio_PrivateKey(key.get(), nullptr,
                                                            nullptr, nullptr);
  if (identity->leaf == nullptr || pkey == nullptr) {
    if (pkey != nullptr) EVP_PKEY_free(pkey);
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "no certificate in ", cert_file, " or no key in ", key_file));
  }
  identity->key = std::shared_ptr<EVP_PKEY>(pkey, EVP_PKEY_free);
  if (X509_check_private_key(identity->leaf.get(), pkey) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError("TLS key does not match the certificate");
  }
  return identity;
}

class Server::Impl {
 public:
  Impl(ServerOptions options, Router router)
      : options_(std::move(options)), router_(std::move(router)) {}
  ~Impl() { Stop(); }

  absl::Status Init();
  void Run();
  void Stop();
  Stats stats() const;
  int port() const { return port_; }
  absl::Status ReloadTls();

  const ServerOptions& options() const { return options_; }
  const Router& router() const { return router_; }
  Counters& counters() { return counters_; }
  bool stopping() const { return stopping_flag_.load(); }

  // Queues `task` for a worker; false when the queue is full or stopping.
  bool Schedule(std::function<void()> task);
  // A session's destructor: frees its slots.
  void Release(SessionBase* session, const std::string& client,
               bool per_client);

 private:
  absl::Status ValidateOptions() const;
  absl::Status InitTls();
  absl::Status ListenTcp(absl::string_view address);
  absl::Status ListenUnix(const std::string& path);
  template <class Acceptor>
  void Accept(Acceptor& acceptor);
  template <class Socket>
  void OnAccepted(Socket socket);
  template <class Socket>
  void Reject(Socket& socket);

  ServerOptions options_;
  Router router_;
  Counters counters_;
  std::string reject_response_;  // Raw 503 for connections over a cap.
  std::optional<asio::ssl::context> ssl_;
  // The certificate handshakes present once ReloadTls() has run (the
  // context's own until then): replaced whole, so a handshake never sees a
  // certificate with another's key.
  static int SelectIdentity(SSL* ssl, void* impl);
  mutable absl::Mutex identity_mu_;
  std::shared_ptr<const TlsIdentity> identity_ ABSL_GUARDED_BY(identity_mu_);

  asio::io_context ioc_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>>
      work_;
  // Acceptors and the retry timer live on the acceptor's strand.
  std::optional<tcp::acceptor> tcp_acceptor_;
  std::optional<unix_stream::acceptor> unix_acceptor_;
  std::optional<asio::steady_timer> accept_retry_;
  int port_ = 0;
  std::string unix_path_;
  ino_t unix_inode_ = 0;

  std::vector<std::thread> io_threads_;
  mutable absl::Mutex pool_mu_;
  std::unique_ptr<ThreadPool> pool_ ABSL_GUARDED_BY(pool_mu_);

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::atomic<bool> stopping_flag_{false};  // Lock-free copy for hot paths.
  int64_t open_ ABSL_GUARDED_BY(mu_) = 0;
  absl::flat_hash_map<std::string, int> per_client_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_
      ABSL_GUARDED_BY(mu_);

  absl::Mutex stop_mu_;
  bool stopped_ ABSL_GUARDED_BY(stop_mu_) = false;
};

SessionBase::~SessionBase() { server_->Release(this, client_, per_client_); }

namespace {

// One connection: TLS handshake (if any), then requests read with Beast's
// parser, handed to the worker pool and answered in order. All of a
// session's work runs on its strand; pending operations and queued handler
// tasks hold a shared_ptr, so the session lives exactly as long as someone
// may still call back into it.
template <class Socket, bool kTls>
class Session final : public SessionBase {
 public:
  using Stream = std::conditional_t<kTls, asio::ssl::stream<Socket>, Socket>;

  Session(Server::Impl* server, Socket socket, asio::ssl::context* ssl,
          std::string client, bool via_unix)
      : SessionBase(server, via_unix ? "unix" : client, !via_unix),
        stream_(MakeStream(std::move(socket), ssl)),
        timer_(stream_.get_executor()),
        peer_address_(via_unix ? "unix" : std::move(client)),
        via_unix_(via_unix) {}

  void Start() override {
    asio::dispatch(stream_.get_executor(), [self = Self()] { self->Begin(); });
  }
  void Close() override {
    asio::post(stream_.get_executor(), [self = Self()] { self->Shutdown(); });
  }

 private:
  static Stream MakeStream(Socket socket, asio::ssl::context* ssl) {
    if constexpr (kTls) {
      return Stream(std::move(socket), *ssl);
    } else {
      return Stream(std::move(socket));
    }
  }

  std::shared_ptr<Session> Self() {
    return std::static_pointer_cast<Session>(shared_from_this());
  }
  const ServerOptions& options() const { return server_->options(); }
  Counters& counters() { return server_->counters(); }

  // Closes the connection when `timeout` passes first. Re-arming or
  // Disarm() retires the previous deadline (the generation check covers a
  // firing already queued behind the operation that beat it).
  void Arm(absl::Duration timeout, Phase phase) {
    const uint64_t generation = ++timer_generation_;
    timer_.expires_after(ToChrono(timeout));
    timer_.async_wait([self = Self(), generation, phase](error_code ec) {
      if (ec || generation != self->timer_generation_ || self->closed_) {
        return;
      }
      self->CountTimeout(phase);
      self->Shutdown();  // The pending operation completes with an error.
    });
  }
  void Disarm() {
    ++timer_generation_;
    timer_.cancel();
  }

  void CountTimeout(Phase phase) {
    switch (phase) {
      case Phase::kHandshake:
        ++counters().handshake_timeouts;
        break;
      case Phase::kHeader:
        ++counters().header_timeouts;
        break;
      case Phase::kBody:
        ++counters().body_timeouts;
        break;
      case Phase::kIdle:
        ++counters().idle_timeouts;
        break;
      case Phase::kWrite:
        ++counters().write_timeouts;
        break;
      case Phase::kLinger:
        break;
    }
  }

  // Hard close; everything pending completes with an error and finds
  // closed_ set.
  void Shutdown() {
    if (closed_) return;
    closed_ = true;
    Disarm();
    error_code ec;
    stream_.lowest_layer().close(ec);
  }

  void Begin() {
    if (closed_) return;
    if constexpr (kTls) {
      Arm(options().handshake_timeout, Phase::kHandshake);
      stream_.async_handshake(
          asio::ssl::stream_base::server,
          [self = Self()](error_code ec) { self->OnHandshake(ec); });
    } else {
      ReadRequest();
    }
  }

  void OnHandshake(error_code ec) {
    if (closed_) return;
    if (ec) {
      ++counters().handshake_failures;
      return Shutdown();
    }
    if constexpr (kTls) {
      SSL* ssl = stream_.native_handle();
      // With verify_peer an unverified certificate already failed the
      // handshake; checking the result again costs nothing.
      if (X509* cert = SSL_get1_peer_certificate(ssl); cert != nullptr) {
        const int len = i2d_X509(cert, nullptr);
        if (SSL_get_verify_result(ssl) == X509_V_OK && len > 0) {
          peer_certificate_der_.resize(len);
          auto* out =
              reinterpret_cast<unsigned char*>(peer_certificate_der_.data());
          i2d_X509(cert, &out);
        }
        X509_free(cert);
      }
    }
    ReadRequest();
  }

  void ReadRequest() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(options().max_header_bytes));
    parser_->body_limit(options().max_body_bytes);
    // The first request's header clock runs from accept (or the
    // handshake); a pipelined request's bytes are already here.
    if (first_request_ || buffer_.size() > 0) return ReadHeader();
    // Keep-alive: wait for the first byte under the idle deadline, then
    // give the headers header_timeout from there.
    buffer_.shrink_to_fit();
    Arm(options().idle_timeout, Phase::kIdle);
    stream_.async_read_some(
        buffer_.prepare(kIdleReadSize),
        [self = Self()](error_code ec, size_t n) {
          if (self->closed_) return;
          if (ec) return self->Shutdown();  // The client went away.
          self->buffer_.commit(n);
          self->ReadHeader();
        });
  }

  void ReadHeader() {
    Arm(options().header_timeout, Phase::kHeader);
    bhttp::async_read_header(
        stream_, buffer_, *parser_,
        [self = Self()](error_code ec, size_t) { self->OnHeader(ec); });
  }

  void OnHeader(error_code ec) {
    if (closed_) return;
    if (ec) return OnReadError(ec);
    first_request_ = false;
    if (parser_->is_done()) return Dispatch();
    const auto& message = parser_->get();
    if (message.version() >= 11 &&
        absl::EqualsIgnoreCase(Str(message[bhttp::field::expect]),
                               "100-continue")) {
      // curl and others wait (a second, for curl) for this before sending
      // a body. Oversized bodies never get here: Content-Length over the
      // limit already failed the header read with body_limit.
      static constexpr char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
      Arm(options().write_timeout, Phase::kWrite);
      asio::async_write(stream_, asio::buffer(kContinue, sizeof(kContinue) - 1),
                        [self = Self()](error_code ec, size_t) {
                          if (self->closed_) return;
                          if (ec) return self->Shutdown();
                          self->ReadBody();
                        });
      return;
    }
    ReadBody();
  }

  void ReadBody() {
    Arm(options().body_timeout, Phase::kBody);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = Self()](error_code ec, size_t) {
                        if (self->closed_) return;
                        if (ec) return self->OnReadError(ec);
                        self->Dispatch();
                      });
  }

  void OnReadError(error_code ec) {
    Disarm();
    if (ec == bhttp::error::body_limit) {
      ++counters().too_large;
      return ReplyAndClose(413, "request body too large");
    }
    if (ec == bhttp::error::header_limit) {
      ++counters().bad_requests;
      return ReplyAndClose(431, "request headers too large");
    }
    if (ec.category() ==
            bhttp::make_error_code(bhttp::error::bad_target).category() &&
        ec != bhttp::error::end_of_stream &&
        ec != bhttp::error::partial_message) {
      ++counters().bad_requests;
      return ReplyAndClose(400, "malformed request");
    }
    Shutdown();  // EOF, reset, TLS errors: nobody to answer.
  }

  void ReplyAndClose(int status, absl::string_view message) {
    keep_alive_ = false;
    head_ = false;
    request_arrived_ = absl::Now();
    Reply(server_->router().Error(status, message));
  }

  void Dispatch() {
    Disarm();
    request_arrived_ = absl::Now();
    auto& message = parser_->get();
    keep_alive_ = message.keep_alive();
    head_ = message.method() == bhttp::verb::head;
    version_ = message.version();
    const beast::string_view target = message.target();
    if (target.empty() || target.front() != '/') {
      ++counters().bad_requests;
      return ReplyAndClose(400, "request target must be a path");
    }
    Request request;
    request.method = Str(message.method_string());
    const size_t query = target.find('?');
    request.path = Str(target.substr(0, query));
    if (query != beast::string_view::npos) {
      request.query_string = Str(target.substr(query + 1));
      request.query = ParseQuery(request.query_string);
    }
    for (const auto& field : message) {
      request.headers.emplace_back(Str(field.name_string()),
                                   Str(field.value()));
    }
    request.body = std::move(message.body());
    request.peer_address = peer_address_;
    request.via_unix_socket = via_unix_;
    request.peer_certificate_der = peer_certificate_der_;
    parser_.reset();

    // The handler runs on a worker; its response comes back to the strand.
    // Nothing reads from the socket meanwhile, so responses stay in order.
    auto executor = stream_.get_executor();
    Server::Impl* server = server_;
    const bool scheduled =
        server->Schedule([self = Self(), executor, server,
                          request = std::move(request)]() mutable {
          if (server->stopping()) return;  // Stop() drops queued requests.
          Response response;
          server->router().Dispatch(request, response);
          std::string method =
              request.route.empty() ? "" : std::move(request.method);
          asio::post(executor,
                     [self = std::move(self), response = std::move(response),
                      method = std::move(method),
                      route = std::move(request.route)]() mutable {
                       self->Reply(std::move(response), method, route);
                     });
        });
    if (scheduled) {
      ++counters().requests;
      return;
    }
    ++counters().busy_503;
    Response busy = server_->router().Error(503, "server busy, retry later");
    busy.headers.emplace_back("Retry-After", "1");
    Reply(std::move(busy));
  }

  void Reply(Response response, absl::string_view method = "",
             absl::string_view route = "") {
    if (closed_) return;
    int status = response.status;
    if (status < 200 || status > 999) {  // 1xx is not a final response.
      response = server_->router().Error(500, "handler set a bad status");
      status = 500;
    }
    if (options().observer) {
      options().observer({std::string(method), std::string(route), status,
                          absl::Now() - request_arrived_});
    }
    response_ = {};
    response_.version(version_);
    response_.result(static_cast<unsigned>(status));
    const absl::string_view reason = ReasonPhrase(status);
    response_.reason(beast::string_view(reason.data(), reason.size()));
    if (!response.content_type.empty() && IsFieldValue(response.content_type)) {
      response_.set(bhttp::field::content_type, response.content_type);
    }
    for (const auto& [name, value] : response.headers) {
      if (!IsToken(name) || !IsFieldValue(value) ||
          absl::EqualsIgnoreCase(name, "Content-Length") ||
          absl::EqualsIgnoreCase(name, "Transfer-Encoding") ||
          absl::EqualsIgnoreCase(name, "Connection")) {
        continue;
      }
      if (absl::EqualsIgnoreCase(name, "Content-Type")) {
        response_.set(bhttp::field::content_type, value);
      } else {
        response_.insert(name, value);
      }
    }
    // Framing by hand rather than prepare_payload(), which throws on a
    // 204 or 304 with a body.
    if (status != 204 && status != 304) {
      response_.content_length(response.body.size());
      if (!head_) response_.body() = std::move(response.body);
    }
    response_.keep_alive(keep_alive_ && !server_->stopping());
    Arm(options().write_timeout, Phase::kWrite);
    bhttp::async_write(
        stream_, response_,
        [self = Self()](error_code ec, size_t) { self->OnWrite(ec); });
  }

  void OnWrite(error_code ec) {
    if (closed_) return;
    Disarm();
    if (ec) return Shutdown();
    const bool keep_alive = response_.keep_alive();
    response_ = {};
    if (keep_alive) return ReadRequest();
    Linger();
  }

  // Graceful close: stop sending, then read and drop whatever the client
  // still sends until it closes too (or kLingerTime passes).
  void Linger() {
    Arm(kLingerTime, Phase::kLinger);
    if constexpr (kTls) {
      stream_.async_shutdown([self = Self()](error_code) { self->Shutdown(); });
    } else {
      error_code ec;
      stream_.shutdown(asio::socket_base::shutdown_send, ec);
      if (ec) return Shutdown();
      Drain();
    }
  }

  void Drain() {
    buffer_.clear();
    stream_.async_read_some(buffer_.prepare(kIdleReadSize),
                            [self = Self()](error_code ec, size_t) {
                              if (self->closed_) return;
                              if (ec) return self->Shutdown();
                              self->Drain();
                            });
  }

  Stream stream_;
  asio::steady_timer timer_;
  uint64_t timer_generation_ = 0;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  bhttp::response<bhttp::string_body> response_;
  const std::string peer_address_;
  const bool via_unix_;
  std::string peer_certificate_der_;
  bool first_request_ = true;
  absl::Time request_arrived_;
  bool keep_alive_ = false;
  bool head_ = false;
  unsigned version_ = 11;
  bool closed_ = false;
};

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat("http server: ", message));
}

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char text[256];
  ERR_error_string_n(code, text, sizeof(text));
  return text;
}

}  // namespace

absl::Status Server::Impl::ValidateOptions() const {
  const ServerOptions& o = options_;
  if (!router_.status().ok()) return router_.status();
  if (o.address.empty()) return Invalid("no address");
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return Invalid("TLS needs both a certificate and a key file");
  }
  if (o.tls_cert_file.empty() && !o.client_ca_files.empty()) {
    return Invalid("client CAs need TLS");
  }
  if (o.require_client_certificate && o.client_ca_files.empty()) {
    return Invalid("requiring client certificates needs client CAs");
  }
  for (absl::Duration d : {o.handshake_timeout, o.header_timeout,
                           o.body_timeout, o.idle_timeout, o.write_timeout}) {
    if (d <= absl::ZeroDuration()) return Invalid("timeouts must be positive");
  }
  if (o.max_header_bytes < 64 || o.max_header_bytes > 65535) {
    return Invalid("max_header_bytes must be in [64, 65535]");
  }
  if (o.max_body_bytes == 0) return Invalid("max_body_bytes must be positive");
  if (o.max_connections < 1 || o.max_connections_per_client < 1 ||
      o.io_threads < 1 || o.worker_threads < 1 || o.max_queued_requests < 1) {
    return Invalid("connection caps, thread counts and queue must be >= 1");
  }
  return absl::OkStatus();
}

absl::Status Server::Impl::InitTls() {
  ssl_.emplace(asio::ssl::context::tls_server);
  SSL_CTX* ctx = ssl_->native_handle();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Client-initiated renegotiation is a cheap way to burn server CPU.
  SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE);
  // Idle keep-alive connections then hold no TLS record buffers (~34 KiB).
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  error_code ec;
  ssl_->use_certificate_chain_file(options_.tls_cert_file, ec);
  if (ec) {
    return Invalid(absl::StrCat("cannot load TLS certificate ",
                                options_.tls_cert_file, ": ", ec.message()));
  }
  ssl_->use_private_key_file(options_.tls_key_file, asio::ssl::context::pem,
                             ec);
  if (ec) {
    return Invalid(absl::StrCat("cannot load TLS key ", options_.tls_key_file,
                                ": ", ec.message()));
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    return Invalid(absl::StrCat("TLS key does not match the certificate: ",
                                OpenSslError()));
  }
  SSL_CTX_set_cert_cb(ctx, &Impl::SelectIdentity, this);
  if (options_.client_ca_files.empty()) return absl::OkStatus();

  STACK_OF(X509_NAME)* names = sk_X509_NAME_new_null();
  for (const std::string& file : options_.client_ca_files) {
    ssl_->load_verify_file(file, ec);
    STACK_OF(X509_NAME)* file_names = SSL_load_client_CA_file(file.c_str());
    if (ec || file_names == nullptr) {
      sk_X509_NAME_pop_free(names, X509_NAME_free);
      if (file_names != nullptr)
        sk_X509_NAME_pop_free(file_names, X509_NAME_free);
      return Invalid(absl::StrCat("cannot load client CA file ", file));
    }
    // The names the server sends in CertificateRequest, so that clients
    // with several certificates pick the right one.
    while (sk_X509_NAME_num(file_names) > 0) {
      sk_X509_NAME_push(names, sk_X509_NAME_shift(file_names));
    }
    sk_X509_NAME_free(file_names);
  }
  SSL_CTX_set_client_CA_list(ctx, names);
  int mode = asio::ssl::verify_peer;
  if (options_.require_client_certificate) {
    mode |= asio::ssl::verify_fail_if_no_peer_cert;
  }
  ssl_->set_verify_mode(mode, ec);
  // Session resumption with client verification fails without one.
  static constexpr unsigned char kSessionContext[] = "trellis-http";
  SSL_CTX_set_session_id_context(ctx, kSessionContext,
                                 sizeof(kSessionContext) - 1);
  if (ec) return Invalid(absl::StrCat("TLS verify mode: ", ec.message()));
  return absl::OkStatus();
}

absl::Status Server::Impl::ListenTcp(absl::string_view address) {
  std::string host;
  absl::string_view port_text;
  if (absl::StartsWith(address, "[")) {  // [v6]:port
    const size_t close = address.find("]:");
    if (close == absl::string_view::npos) {
      return Invalid("address must be HOST:PORT or [V6]:PORT");
    }
    host = std::string(address.substr(1, close - 1));
    port_text = address.substr(close + 2);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos ||
        address.substr(0, colon).find(':') != absl::string_view::npos) {
      return Invalid("address must be HOST:PORT or [V6]:PORT");
    }
    host = std::string(address.substr(0, colon));
    port_text = address.substr(colon + 1);
  }
  int port = -1;
  if (!absl::SimpleAtoi(port_text, &port) || port < 0 || port > 65535) {
    return Invalid(absl::StrCat("bad port in \"", address, "\""));
  }
  if (host.empty()) host = "0.0.0.0";

  error_code ec;
  tcp::resolver resolver(ioc_);
  const auto endpoints = resolver.resolve(
      host, std::to_string(port),
      tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty()) {
    return Invalid(absl::StrCat("cannot resolve \"", host,
                                "\": ", ec ? ec.message() : "no addresses"));
  }
  const tcp::endpoint endpoint = endpoints.begin()->endpoint();
  tcp_acceptor_.emplace(asio::make_strand(ioc_));
  tcp::acceptor& acceptor = *tcp_acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) SetCloseOnExec(acceptor.native_handle());
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("http server: cannot listen on ",
                                               address, ": ", ec.message()));
  }
  port_ = acceptor.local_endpoint(ec).port();
  accept_retry_.emplace(acceptor.get_executor());
  return absl::OkStatus();
}

absl::Status Server::Impl::ListenUnix(const std::string& path) {
  if (path.empty() || path.size() >= sizeof(sockaddr_un::sun_path)) {
    return Invalid(absl::StrCat("bad Unix socket path \"", path, "\""));
  }
  const unix_stream::endpoint endpoint(path);
  error_code ec;
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return absl::AlreadyExistsError(
          absl::StrCat("http server: ", path, " exists and is not a socket"));
    }
    // Replace the file only if nobody listens on it any more.
    unix_stream::socket probe(ioc_);
    probe.connect(endpoint, ec);
    if (!ec) {
      return absl::AlreadyExistsError(
          absl::StrCat("http server: a server already listens on ", path));
    }
    if (ec != asio::error::connection_refused) {
      return absl::UnavailableError(
          absl::StrCat("http server: cannot probe ", path, ": ", ec.message()));
    }
    unlink(path.c_str());
  }
  unix_acceptor_.emplace(asio::make_strand(ioc_));
  unix_stream::acceptor& acceptor = *unix_acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) {
    SetCloseOnExec(acceptor.native_handle());
    // On Linux bind() gives the socket file the socket inode's mode (less
    // the umask), so it is never visible with a wider one; the chmod
    // below covers other systems.
    fchmod(acceptor.native_handle(), 0600);
    acceptor.bind(endpoint, ec);
  }
  if (!ec) {
    unix_path_ = path;
    if (chmod(path.c_str(), 0600) != 0 || stat(path.c_str(), &st) != 0) {
      return absl::UnavailableError(
          absl::StrCat("http server: cannot chmod ", path));
    }
    unix_inode_ = st.st_ino;
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  }
  if (ec) {
    return absl::UnavailableError(absl::StrCat("http server: cannot listen on ",
                                               path, ": ", ec.message()));
  }
  accept_retry_.emplace(acceptor.get_executor());
  return absl::OkStatus();
}

absl::Status Server::Impl::Init() {
  if (absl::Status s = ValidateOptions(); !s.ok()) return s;
  Response reject = router_.Error(503, "too many connections");
  reject_response_ = absl::StrCat(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: ", reject.content_type,
      "\r\nContent-Length: ", reject.body.size(),
      "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n", reject.body);
  if (!options_.tls_cert_file.empty()) {
    if (absl::Status s = InitTls(); !s.ok()) return s;
  }
  if (absl::StartsWith(options_.address, "unix:")) {
    return ListenUnix(options_.address.substr(5));
  }
  return ListenTcp(options_.address);
}

void Server::Impl::Run() {
  {
    absl::MutexLock lock(&pool_mu_);
    pool_ = std::make_unique<ThreadPool>(options_.worker_threads);
  }
  work_.emplace(asio::make_work_guard(ioc_));
  if (tcp_acceptor_) Accept(*tcp_acceptor_);
  if (unix_acceptor_) Accept(*unix_acceptor_);
  for (int i = 0; i < options_.io_threads; ++i) {
    io_threads_.emplace_back([this] {
      // Handlers do not throw by design; should one, keep serving.
      for (;;) {
        try {
          ioc_.run();
          return;
        } catch (const std::exception& e) {
          logging::Error("http", "I/O handler threw", {{"error", e.what()}});
        }
      }
    });
  }
}

template <class Acceptor>
void Server::Impl::Accept(Acceptor& acceptor) {
  using Socket = typename Acceptor::protocol_type::socket;
  // Each connection gets its own strand: with several I/O threads its
  // handlers still never run concurrently.
  acceptor.async_accept(
      asio::make_strand(ioc_), [this, &acceptor](error_code ec, Socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open()) {
          return;
        }
        if (ec) {
          ++counters_.accept_errors;
          accept_retry_->expires_after(kAcceptRetryDelay);
          accept_retry_->async_wait([this, &acceptor](error_code ec) {
            if (!ec && acceptor.is_open()) Accept(acceptor);
          });
          return;
        }
        OnAccepted(std::move(socket));
        Accept(acceptor);
      });
}

template <class Socket>
void Server::Impl::Reject(Socket& socket) {
  ++counters_.rejected_over_cap;
  error_code ec;
  if (!ssl_) {
    // Best effort and never blocking: the client learns why, if it reads.
    socket.non_blocking(true, ec);
    socket.write_some(asio::buffer(reject_response_), ec);
    socket.shutdown(asio::socket_base::shutdown_send, ec);
  }
  socket.close(ec);
}

template <class Socket>
void Server::Impl::OnAccepted(Socket socket) {
  constexpr bool kUnix =
      std::is_same_v<typename Socket::protocol_type, unix_stream>;
  SetCloseOnExec(socket.native_handle());
  std::string client = "unix";
  if constexpr (!kUnix) {
    error_code ec;
    const tcp::endpoint peer = socket.remote_endpoint(ec);
    if (ec) return;  // Already gone; the socket closes here.
    asio::ip::address address = peer.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    client = address.to_string();
    socket.set_option(tcp::no_delay(true), ec);
  }
  std::shared_ptr<SessionBase> session;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return;
    auto it = per_client_.find(client);
    const int from_client = it == per_client_.end() ? 0 : it->second;
    if (open_ < options_.max_connections &&
        (kUnix || from_client < options_.max_connections_per_client)) {
      ++open_;
      if (!kUnix) ++per_client_[client];
      if (ssl_) {
        session = std::make_shared<Session<Socket, true>>(
            this, std::move(socket), &*ssl_, client, kUnix);
      } else {
        session = std::make_shared<Session<Socket, false>>(
            this, std::move(socket), nullptr, client, kUnix);
      }
      sessions_.emplace(session.get(), session);
    }
  }
  if (session == nullptr) return Reject(socket);
  ++counters_.accepted;
  session->Start();
}

void Server::Impl::Release(SessionBase* session, const std::string& client,
                           bool per_client) {
  absl::MutexLock lock(&mu_);
  --open_;
  if (per_client) {
    auto it = per_client_.find(client);
    if (it != per_client_.end() && --it->second <= 0) per_client_.erase(it);
  }
  sessions_.erase(session);
}

bool Server::Impl::Schedule(std::function<void()> task) {
  absl::ReaderMutexLock lock(&pool_mu_);
  if (pool_ == nullptr || stopping()) return false;
  return pool_->TrySchedule(std::move(task), options_.max_queued_requests);
}

void Server::Impl::Stop() {
  absl::MutexLock stop_lock(&stop_mu_);
  if (stopped_) return;
  stopped_ = true;

  std::vector<std::shared_ptr<SessionBase>> sessions;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    stopping_flag_ = true;
    for (auto& [raw, weak] : sessions_) {
      if (auto session = weak.lock()) sessions.push_back(std::move(session));
    }
  }
  // From here no session is created, so closing these closes them all.
  auto close_acceptor = [this](auto& acceptor) {
    asio::post(acceptor.get_executor(), [this, &acceptor] {
      error_code ec;
      acceptor.close(ec);
      if (accept_retry_) accept_retry_->cancel();
    });
  };
  if (tcp_acceptor_) close_acceptor(*tcp_acceptor_);
  if (unix_acceptor_) close_acceptor(*unix_acceptor_);
  for (auto& session : sessions) session->Close();
  sessions.clear();

  // Waits for running handlers; queued ones see stopping() and return. The
  // I/O threads still run, so their replies land on (closed) sessions.
  std::unique_ptr<ThreadPool> pool;
  {
    absl::MutexLock lock(&pool_mu_);
    pool = std::move(pool_);
  }
  pool.reset();

  // Every socket is closed, so the I/O threads run out of work and return
  // once the last session is gone.
  work_.reset();
  for (std::thread& t : io_threads_) t.join();
  io_threads_.clear();

  struct stat st;
  if (!unix_path_.empty() && stat(unix_path_.c_str(), &st) == 0 &&
      st.st_ino == unix_inode_) {
    unlink(unix_path_.c_str());  // Ours, not a successor's.
  }
}

Server::Stats Server::Impl::stats() const {
  Stats s;
  s.accepted = counters_.accepted;
  s.rejected_over_cap = counters_.rejected_over_cap;
  s.accept_errors = counters_.accept_errors;
  s.handshake_timeouts = counters_.handshake_timeouts;
  s.handshake_failures = counters_.handshake_failures;
  s.header_timeouts = counters_.header_timeouts;
  s.body_timeouts = counters_.body_timeouts;
  s.idle_timeouts = counters_.idle_timeouts;
  s.write_timeouts = counters_.write_timeouts;
  s.bad_requests = counters_.bad_requests;
  s.too_large = counters_.too_large;
  s.busy_503 = counters_.busy_503;
  s.requests = counters_.requests;
  absl::MutexLock lock(&mu_);
  s.open_connections = open_;
  return s;
}

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options,
                                                      Router router) {
  auto impl = std::make_unique<Impl>(std::move(options), std::move(router));
  if (absl::Status s = impl->Init(); !s.ok()) return s;
  impl->Run();
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Server::~Server() { Stop(); }
int Server::Impl::SelectIdentity(SSL* ssl, void* arg) {
  Impl* impl = static_cast<Impl*>(arg);
  std::shared_ptr<const TlsIdentity> identity;
  {
    absl::MutexLock lock(&impl->identity_mu_);
    identity = impl->identity_;
  }
  if (identity == nullptr) return 1;  // The context's certificate.
  STACK_OF(X509)* chain = sk_X509_new_null();
  if (chain == nullptr) return 0;
  for (const std::shared_ptr<X509>& cert : identity->chain) {
    sk_X509_push(chain, cert.get());
  }
  // Takes references of its own (the chain is copied).
  const int ok = SSL_use_cert_and_key(ssl, identity->leaf.get(),
                                      identity->key.get(), chain,
                                      /*override=*/1);
  sk_X509_free(chain);
  return ok == 1 ? 1 : 0;
}

absl::Status Server::Impl::ReloadTls() {
  if (!ssl_.has_value()) {
    return absl::FailedPreconditionError("the server does not use TLS");
  }
  absl::StatusOr<std::shared_ptr<const TlsIdentity>> identity =
      LoadTlsIdentity(options_.tls_cert_file, options_.tls_key_file);
  if (!identity.ok()) return identity.status();
  absl::MutexLock lock(&identity_mu_);
  identity_ = std::move(*identity);
  return absl::OkStatus();
}

int Server::port() const { return impl_->port(); }
absl::Status Server::ReloadTls() { return impl_->ReloadTls(); }
void Server::Stop() { impl_->Stop(); }
Server::Stats Server::stats() const { return impl_->stats(); }

}  // namespace trellis::http
