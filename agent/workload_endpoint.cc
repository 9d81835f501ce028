#include "agent/workload_endpoint.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "grpcpp/server_builder.h"
#include "grpcpp/server_posix.h"

namespace trellis::agent {

absl::StatusOr<std::unique_ptr<WorkloadEndpoint>> WorkloadEndpoint::Start(
    const std::string& socket_path, const std::vector<grpc::Service*>& services,
    PeerDirectory* peers, Interceptors interceptors) {
  // The socket is made under a temporary name, opened to everyone and
  // listening before it is renamed into place: whoever sees the path can
  // connect, and never sees it with the umask's mode.
  const std::string staging = absl::StrCat(socket_path, ".", getpid(), ".new");
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  if (staging.size() >= sizeof(address.sun_path)) {
    return absl::InvalidArgumentError("socket_path is too long");
  }
  std::memcpy(address.sun_path, staging.data(), staging.size());
  struct stat existing;
  if (lstat(socket_path.c_str(), &existing) == 0 &&
      !S_ISSOCK(existing.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(socket_path, " exists and is not a socket"));
  }
  std::unique_ptr<WorkloadEndpoint> endpoint(new WorkloadEndpoint());
  endpoint->peers_ = peers;
  endpoint->listen_fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (endpoint->listen_fd_ < 0) {
    return absl::UnavailableError(absl::StrCat("socket: ", strerror(errno)));
  }
  unlink(staging.c_str());
  if (bind(endpoint->listen_fd_, reinterpret_cast<sockaddr*>(&address),
           sizeof(address)) != 0 ||
      chmod(staging.c_str(), 0777) != 0 ||
      listen(endpoint->listen_fd_, 128) != 0 ||
      // Replaces a previous run's socket.
      rename(staging.c_str(), socket_path.c_str()) != 0) {
    const int error = errno;
    unlink(staging.c_str());
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", socket_path, ": ", strerror(error)));
  }
  endpoint->socket_path_ = socket_path;
  grpc::ServerBuilder builder;
  for (grpc::Service* service : services) builder.RegisterService(service);
  if (!interceptors.empty()) {
    builder.experimental().SetInterceptorCreators(std::move(interceptors));
  }
  endpoint->server_ = builder.BuildAndStart();
  if (endpoint->server_ == nullptr) {
    return absl::InternalError("cannot start the Workload API server");
  }
  endpoint->acceptor_ = std::thread([e = endpoint.get()] { e->AcceptLoop(); });
  return endpoint;
}

WorkloadEndpoint::~WorkloadEndpoint() {
  if (listen_fd_ >= 0) {
    shutdown(listen_fd_, SHUT_RDWR);  // Wakes the acceptor.
  }
  if (acceptor_.joinable()) acceptor_.join();
  if (server_ != nullptr) {
    server_->Shutdown(absl::ToChronoTime(absl::Now() + absl::Seconds(2)));
  }
  if (listen_fd_ >= 0) close(listen_fd_);
  if (!socket_path_.empty()) unlink(socket_path_.c_str());
}

void WorkloadEndpoint::AcceptLoop() {
  for (;;) {
    const int fd =
        accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EMFILE ||
          errno == ENFILE) {
        if (errno == EMFILE || errno == ENFILE) usleep(10000);
        continue;
      }
      return;  // Shut down.
    }
    struct ucred credentials;
    socklen_t length = sizeof(credentials);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0) {
      close(fd);
      continue;
    }
    peers_->Record(
        fd, PeerCredentials{credentials.pid, credentials.uid, credentials.gid});
    grpc::AddInsecureChannelFromFd(server_.get(), fd);
  }
}

std::optional<PeerCredentials> PeerDirectory::Lookup(
    const std::string& peer) const {
  absl::string_view rest = peer;
  int fd = -1;
  if (!absl::ConsumePrefix(&rest, "fd:") || !absl::SimpleAtoi(rest, &fd)) {
    return std::nullopt;
  }
  absl::MutexLock lock(&mu_);
  auto found = peers_.find(fd);
  if (found == peers_.end()) return std::nullopt;
  return found->second;
}

}  // namespace trellis::agent
