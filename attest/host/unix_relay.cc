#include "attest/host/unix_relay.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "absl/strings/str_cat.h"

namespace trellis::attest::host {
namespace {

// Copies bytes both ways until either side closes.
void Pump(int a, int b) {
  char buf[16384];
  pollfd fds[2] = {{a, POLLIN, 0}, {b, POLLIN, 0}};
  while (poll(fds, 2, -1) > 0) {
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof(buf));
      if (n <= 0) return;
      for (ssize_t done = 0; done < n;) {
        const ssize_t w = write(fds[1 - i].fd, buf + done, n - done);
        if (w <= 0) return;
        done += w;
      }
    }
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<UnixRelay>> UnixRelay::Start(
    const std::string& path, int port) {
  sockaddr_un addr{};
  if (path.empty() || path.size() >= sizeof(addr.sun_path)) {
    return absl::InvalidArgumentError("Unix socket path too long or empty");
  }
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::InternalError("cannot create a Unix socket");
  unlink(path.c_str());  // A stale socket of a previous run.
  const mode_t old = umask(0177);
  const bool bound =
      bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  umask(old);
  if (!bound || listen(fd, 64) != 0) {
    close(fd);
    return absl::UnavailableError(absl::StrCat("cannot listen on ", path));
  }
  auto relay = std::unique_ptr<UnixRelay>(new UnixRelay(path, fd, port));
  relay->thread_ = std::thread([r = relay.get()] { r->AcceptLoop(); });
  return relay;
}

UnixRelay::UnixRelay(std::string path, int listen_fd, int port)
    : path_(std::move(path)), listen_fd_(listen_fd), port_(port) {}

UnixRelay::~UnixRelay() {
  stopping_ = true;
  shutdown(listen_fd_, SHUT_RDWR);
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  unlink(path_.c_str());
}

void UnixRelay::AcceptLoop() {
  while (!stopping_) {
    const int client = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) {
      if (stopping_) return;
      continue;
    }
    std::thread([client, port = port_] {
      const int upstream = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(port));
      if (upstream >= 0 && connect(upstream, reinterpret_cast<sockaddr*>(&addr),
                                   sizeof(addr)) == 0) {
        Pump(client, upstream);
      }
      if (upstream >= 0) close(upstream);
      close(client);
    }).detach();
  }
}

}  // namespace trellis::attest::host
