// The verifier's front door under hostile connections, against a real
// trellisd: 1,000 idle TCP connections (no TLS handshake) and 100 TLS
// clients dripping a request header a byte at a time must not delay other
// callers. (With the thread-per-connection server this replaced, 8 idle
// connections delayed every request by seconds and 16 made them time out.)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "tests/trellisd_process.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

// A TCP connection to the verifier from `source` (other loopback addresses
// stand for other clients, each under the per-client cap), TLS optional.
class RawConnection {
 public:
  static std::unique_ptr<RawConnection> Open(int port,
                                             const std::string& source) {
    auto c = std::unique_ptr<RawConnection>(
        new RawConnection(socket(AF_INET, SOCK_STREAM, 0)));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    inet_pton(AF_INET, source.c_str(), &addr.sin_addr);
    if (c->fd_ < 0 ||
        bind(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      return nullptr;
    }
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(c->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) !=
        0) {
      return nullptr;
    }
    const int one = 1;
    setsockopt(c->fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return c;
  }
  ~RawConnection() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (fd_ >= 0) close(fd_);
  }
  bool Handshake(SSL_CTX* ctx) {
    ssl_ = SSL_new(ctx);
    SSL_set_fd(ssl_, fd_);
    return SSL_connect(ssl_) == 1;
  }
  void SendByte(char byte) { SSL_write(ssl_, &byte, 1); }
  // True once the server has closed the connection (within `timeout`).
  bool ClosedByServer(absl::Duration timeout) {
    pollfd p{fd_, POLLIN, 0};
    if (poll(&p, 1, absl::ToInt64Milliseconds(timeout)) <= 0) return false;
    char byte;
    return recv(fd_, &byte, 1, MSG_DONTWAIT) <= 0;
  }

 private:
  explicit RawConnection(int fd) : fd_(fd) {}
  const int fd_;
  SSL* ssl_ = nullptr;
};

double P99Millis(std::vector<absl::Duration> v) {
  std::sort(v.begin(), v.end());
  return absl::ToDoubleMilliseconds(v[v.size() * 99 / 100]);
}

TEST(FrontDoorTest, IdleAndSlowClientsDoNotStarveOthers) {
  // Both this process and trellisd (which inherits it) hold ~1,100 sockets.
  rlimit limit;
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  limit.rlim_cur = limit.rlim_max;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &limit), 0);
  ASSERT_GE(limit.rlim_cur, 2500u);

  TempDir dir;
  TrellisdProcess server(dir.path() + "/data");
  const int port = server.verifier_port();
  httplib::SSLClient client("127.0.0.1", port);
  client.set_ca_cert_path(server.verifier_ca_file().c_str());
  client.enable_server_certificate_verification(true);
  client.set_connection_timeout(10);
  client.set_read_timeout(10);
  auto timed_get = [&] {
    const absl::Time start = absl::Now();
    httplib::Result res = client.Get("/v2.4/policies/default");
    EXPECT_TRUE(res && res->status == 200);
    return absl::Now() - start;
  };
  std::vector<absl::Duration> baseline;
  for (int i = 0; i < 20; ++i) baseline.push_back(timed_get());

  std::vector<std::unique_ptr<RawConnection>> idle, drip;
  for (int i = 0; i < 1000; ++i) {
    idle.push_back(
        RawConnection::Open(port, absl::StrCat("127.0.1.", 1 + i / 50)));
    ASSERT_NE(idle.back(), nullptr) << i;
  }
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> tls(
      SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_set_verify(tls.get(), SSL_VERIFY_NONE, nullptr);
  for (int i = 0; i < 100; ++i) {
    drip.push_back(
        RawConnection::Open(port, absl::StrCat("127.0.2.", 1 + i / 50)));
    ASSERT_NE(drip.back(), nullptr) << i;
    ASSERT_TRUE(drip.back()->Handshake(tls.get())) << i;
  }
  std::atomic<bool> stop{false};
  std::thread dripper([&] {
    const std::string header =
        "GET /v2.4/policies/default HTTP/1.1\r\nX: " + std::string(1000, 'd');
    for (size_t i = 0; !stop && i < header.size(); ++i) {
      for (auto& c : drip) c->SendByte(header[i]);
      absl::SleepFor(absl::Milliseconds(100));
    }
  });
  // Real requests while both kinds are held open (the idle ones until the
  // 5 s handshake deadline).
  std::vector<absl::Duration> loaded;
  for (int i = 0; i < 50; ++i) {
    loaded.push_back(timed_get());
    absl::SleepFor(absl::Milliseconds(40));
  }
  stop = true;
  dripper.join();
  const double base = P99Millis(baseline);
  const double under_load = P99Millis(loaded);
  std::printf("verifier GET p99: %.2f ms alone, %.2f ms under load\n", base,
              under_load);
  EXPECT_LT(under_load, std::max(base * 20, 500.0));
}

// Beyond the per-client cap a client's new connections are closed at once;
// its earlier ones and everybody else keep being served.
TEST(FrontDoorTest, PerClientConnectionCap) {
  TempDir dir;
  TrellisdProcess server(dir.path() + "/data",
                         {"--max_connections_per_client=8"});
  const int port = server.verifier_port();
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(RawConnection::Open(port, "127.0.3.1"));
    ASSERT_NE(held.back(), nullptr);
  }
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> tls(
      SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_set_verify(tls.get(), SSL_VERIFY_NONE, nullptr);
  // The ninth from the same address is closed at once; its earlier ones
  // and another client's still work.
  std::unique_ptr<RawConnection> over = RawConnection::Open(port, "127.0.3.1");
  ASSERT_NE(over, nullptr);
  EXPECT_TRUE(over->ClosedByServer(absl::Seconds(2)));
  EXPECT_TRUE(held.front()->Handshake(tls.get()));
  std::unique_ptr<RawConnection> other = RawConnection::Open(port, "127.0.3.2");
  ASSERT_NE(other, nullptr);
  EXPECT_TRUE(other->Handshake(tls.get()));
  httplib::SSLClient client("127.0.0.1", port);
  client.enable_server_certificate_verification(false);
  httplib::Result res = client.Get("/v2.4/policies/default");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

}  // namespace
}  // namespace trellis::testing
