#include "http/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"

namespace trellis::http {
namespace {

// OpenSSL writes with write(2): a server that closed first must not kill
// the test with SIGPIPE.
const bool kIgnoreSigpipe = [] {
  std::signal(SIGPIPE, SIG_IGN);
  return true;
}();

// --- Raw clients -----------------------------------------------------------

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  std::string Header(absl::string_view name) const {
    for (const auto& [key, value] : headers) {
      if (absl::EqualsIgnoreCase(key, name)) return value;
    }
    return "";
  }
};

// A blocking client socket (plain or TLS) with deadline-bounded reads.
class Client {
 public:
  static std::unique_ptr<Client> Tcp(int port, const std::string& source = "") {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return nullptr;
    auto client = std::unique_ptr<Client>(new Client(fd));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    if (!source.empty()) {
      // Other loopback addresses stand in for other clients.
      inet_pton(AF_INET, source.c_str(), &addr.sin_addr);
      if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
        return nullptr;
      }
    }
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return nullptr;
    }
    const int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return client;
  }

  static std::unique_ptr<Client> Unix(const std::string& path) {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0) return nullptr;
    auto client = std::unique_ptr<Client>(new Client(fd));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return nullptr;
    }
    return client;
  }

  ~Client() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    close(fd_);
  }

  bool StartTls(SSL_CTX* ctx) {
    ssl_ = SSL_new(ctx);
    SSL_set_fd(ssl_, fd_);
    SSL_set_tlsext_host_name(ssl_, "localhost");
    return SSL_connect(ssl_) == 1;
  }

  bool Send(absl::string_view data) {
    while (!data.empty()) {
      const int n = ssl_ != nullptr
                        ? SSL_write(ssl_, data.data(), data.size())
                        : send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(n);
    }
    return true;
  }

  // One response (a 100 Continue counts as one); nullopt on EOF, error or
  // timeout.
  std::optional<HttpResponse> Read(bool head = false,
                                   absl::Duration timeout = absl::Seconds(10)) {
    const absl::Time deadline = absl::Now() + timeout;
    size_t end;
    while ((end = pending_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    HttpResponse response;
    std::vector<std::string> lines =
        absl::StrSplit(pending_.substr(0, end), "\r\n");
    pending_.erase(0, end + 4);
    std::vector<std::string> status_line = absl::StrSplit(lines[0], ' ');
    if (status_line.size() < 2 ||
        !absl::SimpleAtoi(status_line[1], &response.status)) {
      return std::nullopt;
    }
    for (size_t i = 1; i < lines.size(); ++i) {
      std::pair<std::string, std::string> kv =
          absl::StrSplit(lines[i], absl::MaxSplits(':', 1));
      response.headers.emplace_back(
          kv.first, std::string(absl::StripAsciiWhitespace(kv.second)));
    }
    size_t length = 0;
    if (head || response.status == 100 ||
        !absl::SimpleAtoi(response.Header("Content-Length"), &length)) {
      length = 0;
    }
    while (pending_.size() < length) {
      if (!Fill(deadline)) return std::nullopt;
    }
    response.body = pending_.substr(0, length);
    pending_.erase(0, length);
    return response;
  }

  // True when the server closes (EOF or reset) within `timeout`; whatever
  // it sends meanwhile is dropped.
  bool WaitClosed(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    for (;;) {
      const int r = ReadSome(deadline);
      if (r == 0 || r == -1) return true;
      if (r == -2) return false;
      pending_.clear();
    }
  }

  int fd() const { return fd_; }

 private:
  explicit Client(int fd) : fd_(fd) {
    // A safety net: a test must never hang in a blocking read.
    timeval tv{20, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }

  bool Fill(absl::Time deadline) { return ReadSome(deadline) > 0; }

  // >0 bytes appended, 0 EOF, -1 error, -2 timeout.
  int ReadSome(absl::Time deadline) {
    if (ssl_ == nullptr || SSL_pending(ssl_) == 0) {
      const int64_t ms = std::max<int64_t>(
          0, absl::ToInt64Milliseconds(deadline - absl::Now()));
      pollfd p{fd_, POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(ms));
      if (ready == 0) return -2;
      if (ready < 0) return -1;
    }
    char buf[16384];
    const int n = ssl_ != nullptr ? SSL_read(ssl_, buf, sizeof(buf))
                                  : recv(fd_, buf, sizeof(buf), 0);
    if (n > 0) {
      pending_.append(buf, n);
      return n;
    }
    if (n == 0) return 0;
    if (ssl_ != nullptr && SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN) {
      return 0;
    }
    return -1;
  }

  int fd_;
  SSL* ssl_ = nullptr;
  std::string pending_;
};

std::string Req(absl::string_view method, absl::string_view target,
                absl::string_view body = "", bool close = true,
                absl::string_view extra_headers = "") {
  std::string request = absl::StrCat(
      method, " ", target, " HTTP/1.1\r\nHost: test\r\n", extra_headers);
  if (!body.empty() || method == "POST" || method == "PUT") {
    absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n");
  }
  if (close) request += "Connection: close\r\n";
  absl::StrAppend(&request, "\r\n", body);
  return request;
}

std::optional<HttpResponse> Fetch(int port, const std::string& request,
                                  SSL_CTX* tls = nullptr,
                                  const std::string& source = "") {
  std::unique_ptr<Client> client = Client::Tcp(port, source);
  if (client == nullptr) return std::nullopt;
  if (tls != nullptr && !client->StartTls(tls)) return std::nullopt;
  if (!client->Send(request)) return std::nullopt;
  return client->Read(absl::StartsWith(request, "HEAD "));
}

bool WaitFor(const std::function<bool()>& condition,
             absl::Duration timeout = absl::Seconds(10)) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!condition()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(5));
  }
  return true;
}

// --- Fixtures --------------------------------------------------------------

// Under /tmp rather than TEST_TMPDIR: Bazel's can exceed the 107 bytes a
// Unix socket path may have.
std::string TempDir() {
  std::string dir = "/tmp/http_test.XXXXXX";
  return mkdtemp(dir.data()) != nullptr ? dir : "";
}

struct TestCert {
  std::string cert_file;
  std::string key_file;
  std::string der;
};

bool AddExt(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A self-signed P-256 certificate that serves as its own CA, for server and
// client authentication on localhost.
std::optional<TestCert> MakeCert(const std::string& dir,
                                 const std::string& name) {
  static int serial = 1;
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"),
                                                          EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  X509_NAME* subject = X509_get_subject_name(cert.get());
  const bool ok =
      key != nullptr && X509_set_version(cert.get(), 2) == 1 &&
      ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial++) == 1 &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400) != nullptr &&
      X509_set_pubkey(cert.get(), key.get()) == 1 &&
      X509_NAME_add_entry_by_txt(
          subject, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1,
          0) == 1 &&
      X509_set_issuer_name(cert.get(), subject) == 1 &&
      AddExt(cert.get(), NID_basic_constraints, "critical,CA:TRUE") &&
      AddExt(cert.get(), NID_key_usage,
             "critical,digitalSignature,keyCertSign") &&
      AddExt(cert.get(), NID_ext_key_usage, "serverAuth,clientAuth") &&
      AddExt(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") &&
      X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  if (!ok) return std::nullopt;
  TestCert out{dir + "/" + name + ".pem", dir + "/" + name + ".key", ""};
  BIO* bio = BIO_new_file(out.cert_file.c_str(), "w");
  PEM_write_bio_X509(bio, cert.get());
  BIO_free(bio);
  bio = BIO_new_file(out.key_file.c_str(), "w");
  PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr,
                           nullptr);
  BIO_free(bio);
  const int len = i2d_X509(cert.get(), nullptr);
  out.der.resize(len);
  auto* p = reinterpret_cast<unsigned char*>(out.der.data());
  i2d_X509(cert.get(), &p);
  return out;
}

using SslCtx = std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)>;

// A client context trusting `ca`, optionally presenting `identity`.
SslCtx ClientTls(const TestCert& ca, const TestCert* identity = nullptr) {
  SslCtx ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_load_verify_locations(ctx.get(), ca.cert_file.c_str(), nullptr);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (identity != nullptr) {
    SSL_CTX_use_certificate_file(ctx.get(), identity->cert_file.c_str(),
                                 SSL_FILETYPE_PEM);
    SSL_CTX_use_PrivateKey_file(ctx.get(), identity->key_file.c_str(),
                                SSL_FILETYPE_PEM);
  }
  return ctx;
}

void RaiseFdLimit() {
  rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0 &&
      limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
}

Router TestRouter() {
  Router router;
  router.Get("/hello", [](const Request&, Response& res) {
    res.content_type = "text/plain";
    res.body = "hi";
  });
  router.Get("/items/([0-9]+)/(a|b)?", [](const Request& req, Response& res) {
    res.body = absl::StrCat(req.path_params.size(), ":", req.path_params[0],
                            ":", req.path_params[1]);
  });
  router.Post("/echo", [](const Request& req, Response& res) {
    res.body = absl::StrCat(req.body, "|", req.QueryParam("x"), "|",
                            req.Header("x-TEST"));
    res.headers.emplace_back("X-Reply", "yes");
    res.headers.emplace_back("X-Evil", "a\r\nInjected: 1");
  });
  router.Get("/peer", [](const Request& req, Response& res) {
    res.body = absl::StrCat(req.peer_address, "|", req.via_unix_socket);
  });
  router.Get("/cert", [](const Request& req, Response& res) {
    res.content_type = "application/octet-stream";
    res.body = req.peer_certificate_der;
  });
  return router;
}

ServerOptions Local() {
  ServerOptions options;
  options.address = "127.0.0.1:0";
  return options;
}

std::unique_ptr<Server> MustStart(ServerOptions options,
                                  Router router = TestRouter()) {
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(std::move(options), std::move(router));
  EXPECT_TRUE(server.ok()) << server.status();
  return server.ok() ? std::move(*server) : nullptr;
}

// --- Routing and protocol --------------------------------------------------

TEST(ServerTest, Routes) {
  std::unique_ptr<Server> server = MustStart(Local());
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  ASSERT_GT(port, 0);

  std::optional<HttpResponse> r = Fetch(port, Req("GET", "/hello"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hi");
  EXPECT_EQ(r->Header("Content-Type"), "text/plain");

  r = Fetch(port, Req("GET", "/items/42/b"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "2:42:b");
  r = Fetch(port, Req("GET", "/items/7/"));  // Unmatched group -> "".
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "2:7:");
  r = Fetch(port, Req("GET", "/items/7/x"));  // Full match only.
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);

  r = Fetch(port, Req("POST", "/echo?x=a%20b+c&y=1", "payload", true,
                      "X-Test: t1\r\n"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "payload|a b c|t1");
  EXPECT_EQ(r->Header("X-Reply"), "yes");
  EXPECT_EQ(r->Header("X-Evil"), "");  // Dropped, not injected.
  EXPECT_EQ(r->Header("Injected"), "");
  EXPECT_EQ(r->Header("Content-Type"), "application/json");

  r = Fetch(port, Req("GET", "/nope"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 404);
  EXPECT_TRUE(absl::StrContains(r->body, "\"code\":404")) << r->body;

  r = Fetch(port, Req("POST", "/hello"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 405);
  EXPECT_EQ(r->Header("Allow"), "GET");

  r = Fetch(port, Req("HEAD", "/hello"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("Content-Length"), "2");

  r = Fetch(port, Req("GET", "/peer"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "127.0.0.1|0");

  r = Fetch(port, "NOT HTTP AT ALL\r\n\r\n");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 400);
}

TEST(ServerTest, ObserverSeesEveryResponseWithItsRoute) {
  absl::Mutex mu;
  std::vector<Exchange> seen;
  ServerOptions options = Local();
  options.max_body_bytes = 16;
  options.observer = [&](const Exchange& exchange) {
    absl::MutexLock lock(&mu);
    seen.push_back(exchange);
  };
  std::unique_ptr<Server> server = MustStart(options);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  ASSERT_EQ(Fetch(port, Req("GET", "/items/42/b"))->status, 200);
  ASSERT_EQ(Fetch(port, Req("GET", "/nope"))->status, 404);
  ASSERT_EQ(Fetch(port, Req("BREW", "/hello"))->status, 405);
  ASSERT_EQ(Fetch(port, Req("POST", "/echo", std::string(64, 'x')))->status,
            413);
  server->Stop();
  absl::MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), 4u);
  // The route is the pattern, not the path: its variety is the router's.
  EXPECT_EQ(seen[0].method, "GET");
  EXPECT_EQ(seen[0].route, "/items/([0-9]+)/(a|b)?");
  EXPECT_EQ(seen[0].status, 200);
  EXPECT_GE(seen[0].duration, absl::ZeroDuration());
  // Unrouted requests carry neither the client's path nor its method.
  for (size_t i = 1; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].method, "") << i;
    EXPECT_EQ(seen[i].route, "") << i;
  }
  EXPECT_EQ(seen[1].status, 404);
  EXPECT_EQ(seen[2].status, 405);
  EXPECT_EQ(seen[3].status, 413);
}

TEST(ServerTest, BadPatternFailsStart) {
  Router router;
  router.Get("/x/(unclosed", [](const Request&, Response&) {});
  absl::StatusOr<std::unique_ptr<Server>> server =
      Server::Start(Local(), std::move(router));
  EXPECT_EQ(server.status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ServerTest, BadOptionsFailStart) {
  ServerOptions options = Local();
  options.tls_cert_file = "/nonexistent/cert.pem";
  EXPECT_EQ(Server::Start(options, TestRouter()).status().code(),
            absl::StatusCode::kInvalidArgument);  // No key.
  options.tls_key_file = "/nonexistent/key.pem";
  EXPECT_EQ(Server::Start(options, TestRouter()).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = Local();
  options.address = "127.0.0.1";
  EXPECT_FALSE(Server::Start(options, TestRouter()).ok());
}

TEST(ServerTest, KeepAliveAndConnectionClose) {
  std::unique_ptr<Server> server = MustStart(Local());
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = Client::Tcp(server->port());
  ASSERT_NE(client, nullptr);
  // Two pipelined requests, then one with Connection: close.
  ASSERT_TRUE(client->Send(Req("GET", "/hello", "", false) +
                           Req("GET", "/items/1/a", "", false)));
  std::optional<HttpResponse> r = client->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "hi");
  r = client->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "2:1:a");
  ASSERT_TRUE(client->Send(Req("GET", "/hello", "", true)));
  r = client->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->Header("Connection"), "close");
  EXPECT_TRUE(client->WaitClosed(absl::Seconds(3)));
  EXPECT_EQ(server->stats().accepted, 1);
}

TEST(ServerTest, IdleKeepAliveClosed) {
  ServerOptions options = Local();
  options.idle_timeout = absl::Seconds(1);
  std::unique_ptr<Server> server = MustStart(options);
  ASSERT_NE(server, nullptr);
  std::unique_ptr<Client> client = Client::Tcp(server->port());
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(Req("GET", "/hello", "", false)));
  ASSERT_TRUE(client->Read().has_value());
  const absl::Time start = absl::Now();
  EXPECT_TRUE(client->WaitClosed(absl::Seconds(5)));
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(800));
  EXPECT_EQ(server->stats().idle_timeouts, 1);
}

TEST(ServerTest, BodyAndHeaderLimits) {
  ServerOptions options = Local();
  options.max_body_bytes = 1024;
  options.max_header_bytes = 1024;
  std::unique_ptr<Server> server = MustStart(options);
  ASSERT_NE(server, nullptr);
  const int port = server->port();

  // Declared too large: refused at the headers.
  std::optional<HttpResponse> r =
      Fetch(port, Req("POST", "/echo", std::string(4096, 'x')));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);
  EXPECT_TRUE(absl::StrContains(r->body, "\"code\":413")) << r->body;
  EXPECT_EQ(r->Header("Content-Type"), "application/json");

  // Chunked, growing past the limit.
  std::string chunked =
      "POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 4; ++i) {
    absl::StrAppend(&chunked, "200\r\n", std::string(512, 'y'), "\r\n");
  }
  chunked += "0\r\n\r\n";
  r = Fetch(port, chunked);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 413);

  // Within the limit, with Expect: 100-continue.
  std::unique_ptr<Client> client = Client::Tcp(port);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(
      client->Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n"
                   "Expect: 100-continue\r\nConnection: close\r\n\r\n"));
  r = client->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 100);
  ASSERT_TRUE(client->Send("body"));
  r = client->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "body||");

  r = Fetch(port, Req("GET", "/hello", "", true,
                      absl::StrCat("X-Big: ", std::string(2000, 'h'), "\r\n")));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 431);

  // Still serving.
  r = Fetch(port, Req("GET", "/hello"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(server->stats().too_large, 2);
}

// --- Slow and idle clients -------------------------------------------------

double Percentile(std::vector<absl::Duration> v, double p) {
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * v.size()));
  return absl::ToDoubleMilliseconds(v[i]);
}

absl::Duration TimedGet(int port) {
  const absl::Time start = absl::Now();
  std::optional<HttpResponse> r = Fetch(port, Req("GET", "/hello"));
  const absl::Duration took = absl::Now() - start;
  EXPECT_TRUE(r.has_value() && r->status == 200);
  return took;
}

TEST(ServerTest, IdleAndDripConnectionsDoNotDelayOthers) {
  RaiseFdLimit();
  ServerOptions options = Local();
  options.header_timeout = absl::Seconds(60);  // Hold them all for the test.
  std::unique_ptr<Server> server = MustStart(options);
  ASSERT_NE(server, nullptr);
  const int port = server->port();

  std::vector<absl::Duration> baseline;
  for (int i = 0; i < 20; ++i) baseline.push_back(TimedGet(port));

  // 1,000 idle and 100 dripping connections, 50 per source address so that
  // the default per-client cap (64) lets them all in.
  std::vector<std::unique_ptr<Client>> idle, drip;
  for (int i = 0; i < 1000; ++i) {
    idle.push_back(Client::Tcp(port, absl::StrCat("127.0.0.", 10 + i / 50)));
    ASSERT_NE(idle.back(), nullptr) << i;
  }
  for (int i = 0; i < 100; ++i) {
    drip.push_back(Client::Tcp(port, absl::StrCat("127.0.0.", 40 + i / 50)));
    ASSERT_NE(drip.back(), nullptr) << i;
  }
  ASSERT_TRUE(WaitFor([&] { return server->stats().open_connections >= 1100; }))
      << server->stats().open_connections;

  std::atomic<bool> stop{false};
  std::thread dripper([&] {
    const std::string header =
        "GET /hello HTTP/1.1\r\nX-Drip: " + std::string(1000, 'd');
    for (size_t i = 0; !stop && i < header.size(); ++i) {
      for (auto& c : drip) c->Send(absl::string_view(&header[i], 1));
      absl::SleepFor(absl::Milliseconds(200));
    }
  });

  // Spread over ~2.5 s so that the drips keep arriving meanwhile.
  std::vector<absl::Duration> loaded;
  for (int i = 0; i < 50; ++i) {
    loaded.push_back(TimedGet(port));
    absl::SleepFor(absl::Milliseconds(50));
  }
  stop = true;
  dripper.join();

  const double base_p99 = Percentile(baseline, 0.99);
  const double loaded_p99 = Percentile(loaded, 0.99);
  std::printf("baseline p99 %.2f ms, loaded p50 %.2f ms, p99 %.2f ms\n",
              base_p99, Percentile(loaded, 0.5), loaded_p99);
  EXPECT_LT(loaded_p99, std::max(base_p99 * 20, 500.0))
      << "baseline p99 " << base_p99 << " ms";
  for (absl::Duration d : loaded) EXPECT_LT(d, absl::Seconds(2));
  const Server::Stats stats = server->stats();
  EXPECT_EQ(stats.rejected_over_cap, 0);
  EXPECT_EQ(stats.header_timeouts, 0);
  EXPECT_GE(stats.open_connections, 1100);

  // Stop with all of them open is prompt.
  const absl::Time start = absl::Now();
  server->Stop();
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  EXPECT_TRUE(idle[0]->WaitClosed(absl::Seconds(2)));
}

TEST(ServerTest, DripConnectionsClosedAfterHeaderTimeout) {
  ServerOptions options = Local();
  options.header_timeout = absl::Seconds(1);
  std::unique_ptr<Server> server = MustStart(options);
  ASSERT_NE(server, nullptr);
  std::vector<std::unique_ptr<Client>> drip;
  for (int i = 0; i < 100; ++i) {
    drip.push_back(
        Client::Tcp(server->port(), absl::StrCat("127.0.0.", 10 + i / 50)));
    ASSERT_NE(drip.back(), nullptr);
  }
  const std::string header =
      "GET /hello HTTP/1.1\r\nX-Drip: " + std::string(1000, 'd');
  const absl::Time start = absl::Now();
  std::vector<absl::Duration> closed_after(drip.size());
  size_t open = drip.size();
  for (size_t i = 0; open > 0 && i < header.size(); ++i) {
    for (size_t c = 0; c < drip.size(); ++c) {
      if (closed_after[c] != absl::ZeroDuration()) continue;
      // A send may still succeed after the close; the read tells.
      drip[c]->Send(absl::string_view(&header[i], 1));
      if (drip[c]->WaitClosed(absl::Milliseconds(2))) {
        closed_after[c] = absl::Now() - start;
        --open;
      }
    }
    if (absl::Now() - start > absl::Seconds(5)) break;
  }
  for (absl::Duration d : closed_after) {
    EXPECT_GT(d, absl::Milliseconds(800));
    EXPECT_LT(d, absl::Seconds(3));
  }
  EXPECT_EQ(server->stats().header_timeouts, 100);
  // Still serving.
  std::optional<HttpResponse> r = Fetch(server->port(), Req("GET", "/hello"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

TEST(ServerTest, PerClientCap) {
  ServerOptions options = Local();
  options.max_connections_per_client = 3;
  std::unique_ptr<Server> server = MustStart(options);
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  std::vector<std::unique_ptr<Client>> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(Client::Tcp(port));
    ASSERT_NE(held.back(), nullptr);
  }
  ASSERT_TRUE(WaitFor([&] { return server->stats().accepted == 3; }));

  std::unique_ptr<Client> extra = Client::Tcp(port);
  ASSERT_NE(extra, nullptr);
  const absl::Time start = absl::Now();
  EXPECT_TRUE(extra->WaitClosed(absl::Seconds(2)));
  EXPECT_LT(absl::Now() - start, absl::Seconds(1));
  EXPECT_EQ(server->stats().rejected_over_cap, 1);

  // The earlier connections are untouched.
  ASSERT_TRUE(held[0]->Send(Req("GET", "/hello", "", false)));
  std::optional<HttpResponse> r = held[0]->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  // Another address has its own allowance.
  r = Fetch(port, Req("GET", "/hello"), nullptr, "127.0.0.2");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  // A freed slot can be taken again.
  held.pop_back();
  ASSERT_TRUE(WaitFor([&] { return server->stats().open_connections == 2; }));
  r = Fetch(port, Req("GET", "/hello"));
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
}

TEST(ServerTest, SeveralIoThreads) {
  ServerOptions options = Local();
  options.io_threads = 4;
  options.worker_threads = 4;
  std::unique_ptr<Server> server = MustStart(options);
  ASSERT_NE(server, nullptr);
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      std::unique_ptr<Client> client = Client::Tcp(server->port());
      if (client == nullptr) return;
      for (int i = 0; i < 50; ++i) {
        if (!client->Send(Req("POST", "/echo", "x", /*close=*/i == 49))) return;
        std::optional<HttpResponse> r = client->Read();
        if (r.has_value() && r->body == "x||") ++ok;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(ok, 8 * 50);
}

TEST(ServerTest, QueueFullAnswers503) {
  ServerOptions options = Local();
  options.worker_threads = 1;
  options.max_queued_requests = 1;
  absl::Notification release;
  std::atomic<int> entered{0};
  Router router = TestRouter();
  router.Get("/block", [&](const Request&, Response& res) {
    ++entered;
    release.WaitForNotification();
    res.body = "done";
  });
  std::unique_ptr<Server> server = MustStart(options, std::move(router));
  ASSERT_NE(server, nullptr);
  const int port = server->port();

  std::optional<HttpResponse> first, second;
  std::thread a([&] { first = Fetch(port, Req("GET", "/block")); });
  ASSERT_TRUE(WaitFor([&] { return entered == 1; }));
  std::thread b([&] { second = Fetch(port, Req("GET", "/block")); });
  ASSERT_TRUE(WaitFor([&] { return server->stats().requests == 2; }));

  std::optional<HttpResponse> busy = Fetch(port, Req("GET", "/hello"));
  ASSERT_TRUE(busy.has_value());
  EXPECT_EQ(busy->status, 503);
  EXPECT_EQ(busy->Header("Retry-After"), "1");
  EXPECT_EQ(server->stats().busy_503, 1);

  release.Notify();
  a.join();
  b.join();
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_EQ(first->body, "done");
  EXPECT_EQ(second->body, "done");
}

TEST(ServerTest, StopWithRequestsInFlight) {
  ServerOptions options = Local();
  options.worker_threads = 1;
  Router router = TestRouter();
  std::atomic<int> entered{0};
  router.Get("/slow", [&](const Request&, Response& res) {
    ++entered;
    absl::SleepFor(absl::Seconds(1));
    res.body = "slow";
  });
  std::unique_ptr<Server> server = MustStart(options, std::move(router));
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  std::vector<std::thread> clients;
  std::atomic<int> answered{0};
  for (int i = 0; i < 5; ++i) {
    clients.emplace_back([&] {
      if (Fetch(port, Req("GET", "/slow")).has_value()) ++answered;
    });
  }
  ASSERT_TRUE(WaitFor([&] { return server->stats().requests == 5; }));
  const absl::Time start = absl::Now();
  server->Stop();  // Waits for the running handler, drops the queued ones.
  EXPECT_LT(absl::Now() - start, absl::Seconds(3));
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(entered, 1);
  EXPECT_EQ(answered, 0);  // Connections closed before any reply.
  EXPECT_FALSE(Fetch(port, Req("GET", "/hello")).has_value());
}

// --- TLS -------------------------------------------------------------------

class TlsTest : public testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    ASSERT_FALSE(dir_.empty());
    std::optional<TestCert> server = MakeCert(dir_, "server");
    std::optional<TestCert> client = MakeCert(dir_, "client");
    ASSERT_TRUE(server.has_value() && client.has_value());
    server_cert_ = *server;
    client_cert_ = *client;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  ServerOptions TlsOptions() {
    ServerOptions options = Local();
    options.tls_cert_file = server_cert_.cert_file;
    options.tls_key_file = server_cert_.key_file;
    return options;
  }

  std::string dir_;
  TestCert server_cert_, client_cert_;
};

TEST_F(TlsTest, ServesAndTimesOutSilentHandshakes) {
  ServerOptions options = TlsOptions();
  options.handshake_timeout = absl::Seconds(1);
  std::unique_ptr<Server> server = MustStart(options);
  ASSERT_NE(server, nullptr);
  const int port = server->port();

  // Connected, never says hello.
  std::vector<std::unique_ptr<Client>> silent;
  for (int i = 0; i < 20; ++i) {
    silent.push_back(Client::Tcp(port));
    ASSERT_NE(silent.back(), nullptr);
  }
  const absl::Time start = absl::Now();

  SslCtx tls = ClientTls(server_cert_);
  std::optional<HttpResponse> r = Fetch(port, Req("GET", "/hello"), tls.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, "hi");
  r = Fetch(port, Req("GET", "/cert"), tls.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "");  // No client CAs: no client certificate.

  for (auto& c : silent) EXPECT_TRUE(c->WaitClosed(absl::Seconds(4)));
  EXPECT_GT(absl::Now() - start, absl::Milliseconds(800));
  EXPECT_EQ(server->stats().handshake_timeouts, 20);

  // Keep-alive over TLS.
  std::unique_ptr<Client> client = Client::Tcp(port);
  ASSERT_TRUE(client != nullptr && client->StartTls(tls.get()));
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client->Send(Req("GET", "/hello", "", false)));
    r = client->Read();
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->body, "hi");
  }
}

TEST_F(TlsTest, ClientCertificates) {
  ServerOptions options = TlsOptions();
  options.client_ca_files = {client_cert_.cert_file};
  options.require_client_certificate = true;
  std::unique_ptr<Server> server = MustStart(options);
  ASSERT_NE(server, nullptr);
  const int port = server->port();

  SslCtx with_cert = ClientTls(server_cert_, &client_cert_);
  std::optional<HttpResponse> r =
      Fetch(port, Req("GET", "/cert"), with_cert.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, client_cert_.der);

  // Without a certificate, or with one from another CA: no response.
  SslCtx without = ClientTls(server_cert_);
  EXPECT_FALSE(Fetch(port, Req("GET", "/cert"), without.get()).has_value());
  SslCtx wrong = ClientTls(server_cert_, &server_cert_);
  EXPECT_FALSE(Fetch(port, Req("GET", "/cert"), wrong.get()).has_value());
  // The client can see the alert before the server's handler counts it.
  EXPECT_TRUE(WaitFor([&] { return server->stats().handshake_failures >= 2; }));
  ERR_clear_error();
}

TEST_F(TlsTest, ReloadTlsPresentsTheNewCertificate) {
  std::unique_ptr<Server> server = MustStart(TlsOptions());
  ASSERT_NE(server, nullptr);
  const int port = server->port();
  SslCtx trusts_old = ClientTls(server_cert_);
  ASSERT_TRUE(Fetch(port, Req("GET", "/hello"), trusts_old.get()).has_value());

  // New files in place: served only once reloaded.
  std::optional<TestCert> next = MakeCert(dir_, "next");
  ASSERT_TRUE(next.has_value());
  const auto overwrite = std::filesystem::copy_options::overwrite_existing;
  std::filesystem::copy_file(next->cert_file, server_cert_.cert_file,
                             overwrite);
  std::filesystem::copy_file(next->key_file, server_cert_.key_file, overwrite);
  SslCtx trusts_next = ClientTls(*next);
  EXPECT_TRUE(Fetch(port, Req("GET", "/hello"), trusts_old.get()).has_value());
  ASSERT_TRUE(server->ReloadTls().ok());
  EXPECT_FALSE(Fetch(port, Req("GET", "/hello"), trusts_old.get()).has_value());
  std::optional<HttpResponse> r =
      Fetch(port, Req("GET", "/hello"), trusts_next.get());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "hi");

  // A key that does not match is refused; the loaded pair stays in use.
  std::filesystem::copy_file(client_cert_.key_file, server_cert_.key_file,
                             overwrite);
  EXPECT_EQ(server->ReloadTls().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(Fetch(port, Req("GET", "/hello"), trusts_next.get()).has_value());
  ERR_clear_error();
}

// --- Unix sockets ----------------------------------------------------------

TEST(ServerTest, UnixSocket) {
  const std::string dir = TempDir();
  ASSERT_FALSE(dir.empty());
  const std::string path = dir + "/api.sock";
  {
    // A stale socket file, as a crashed server leaves it.
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(fd);
  }
  ServerOptions options;
  options.address = "unix:" + path;
  std::unique_ptr<Server> server = MustStart(options);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(server->port(), 0);
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);

  // A live one is not taken over.
  EXPECT_EQ(Server::Start(options, TestRouter()).status().code(),
            absl::StatusCode::kAlreadyExists);

  std::unique_ptr<Client> client = Client::Unix(path);
  ASSERT_NE(client, nullptr);
  ASSERT_TRUE(client->Send(Req("GET", "/peer")));
  std::optional<HttpResponse> r = client->Read();
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body, "unix|1");

  server->Stop();
  EXPECT_NE(stat(path.c_str(), &st), 0);  // Removed.
  rmdir(dir.c_str());
}

}  // namespace
}  // namespace trellis::http
