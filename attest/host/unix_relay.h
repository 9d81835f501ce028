// Serves a loopback TCP service on a Unix domain socket as well, by
// relaying each connection's bytes (cpp-httplib 0.11 listens on TCP only):
// trellis-tpm serve --unix=PATH. The socket is created mode 0600.
#ifndef TRELLIS_ATTEST_HOST_UNIX_RELAY_H_
#define TRELLIS_ATTEST_HOST_UNIX_RELAY_H_

#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"

namespace trellis::attest::host {

class UnixRelay {
 public:
  // Listens on `path` (replacing a stale socket file) and relays to
  // 127.0.0.1:`port`.
  static absl::StatusOr<std::unique_ptr<UnixRelay>> Start(
      const std::string& path, int port);
  ~UnixRelay();  // Stops accepting; open connections finish by themselves.

 private:
  UnixRelay(std::string path, int listen_fd, int port);
  void AcceptLoop();

  const std::string path_;
  const int listen_fd_;
  const int port_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace trellis::attest::host

#endif  // TRELLIS_ATTEST_HOST_UNIX_RELAY_H_
