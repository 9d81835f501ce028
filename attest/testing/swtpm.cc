#include "attest/testing/swtpm.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <thread>
#include <vector>

#include "util/file.h"

namespace trellis::testing {
namespace {

// Binds (or connects) a fresh TCP socket to 127.0.0.1:`port`.
template <typename Op>
bool OnLoopback(int port, Op op) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = op(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  close(fd);
  return ok;
}

bool CanBind(int port) { return OnLoopback(port, bind); }
bool Accepts(int port) { return OnLoopback(port, connect); }

}  // namespace

std::string LocalCaBundle() {
  std::string bundle;
  for (const char* file :
       {"/var/lib/swtpm-localca/swtpm-localca-rootca-cert.pem",
        "/var/lib/swtpm-localca/issuercert.pem"}) {
    absl::StatusOr<std::string> pem = ReadFile(file);
    if (!pem.ok()) {
      std::fprintf(stderr, "missing %s\n", file);
      std::abort();
    }
    bundle += *pem;
  }
  return bundle;
}

Swtpm::Swtpm(bool ek_certificate) {
  if (ek_certificate) {
    const std::string command = "swtpm_setup --tpm2 --tpmstate " +
                                state_.path() +
                                " --create-ek-cert --overwrite >/dev/null 2>&1";
    if (std::system(command.c_str()) != 0) {
      std::fprintf(stderr, "swtpm_setup failed\n");
      std::abort();
    }
  }
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 20 && pid_ < 0; ++attempt) {
    // swtpm takes fixed ports: the server port and the control port after
    // it, chosen below Linux's ephemeral range (32768-60999) where servers
    // binding port 0 (trellisd in parallel tests) would take them.
    const int port = 20000 + 2 * static_cast<int>(rng() % 6000);
    if (!CanBind(port) || !CanBind(port + 1)) continue;
    const std::string server =
        "type=tcp,port=" + std::to_string(port) + ",bindaddr=127.0.0.1";
    const std::string ctrl =
        "type=tcp,port=" + std::to_string(port + 1) + ",bindaddr=127.0.0.1";
    const std::string state = "dir=" + state_.path();
    const pid_t pid = fork();
    if (pid == 0) {
      execlp("swtpm", "swtpm", "socket", "--tpm2", "--tpmstate", state.c_str(),
             "--server", server.c_str(), "--ctrl", ctrl.c_str(), "--flags",
             "not-need-init,startup-clear", static_cast<char*>(nullptr));
      _exit(127);
    }
    for (int i = 0; i < 200; ++i) {
      int status = 0;
      if (waitpid(pid, &status, WNOHANG) == pid) break;  // Lost the port.
      if (Accepts(port)) {
        // Someone else may hold the port while our swtpm failed to bind
        // it: ours must still be running a moment later.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        if (waitpid(pid, &status, WNOHANG) == pid) break;
        pid_ = pid;
        port_ = port;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (pid_ < 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
  if (pid_ < 0) {
    std::fprintf(stderr, "could not start swtpm\n");
    std::abort();
  }
}

Swtpm::~Swtpm() { Stop(); }

void Swtpm::Stop() {
  if (pid_ < 0) return;
  kill(pid_, SIGTERM);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

std::string Swtpm::tcti() const {
  return "swtpm:host=127.0.0.1,port=" + std::to_string(port_);
}

int Swtpm::RunTools(const std::string& command, std::string* output) {
  const std::string full =
      "export TPM2TOOLS_TCTI='" + tcti() + "'; { " + command + "\n} 2>&1";
  FILE* pipe = popen(full.c_str(), "r");
  if (pipe == nullptr) return -1;
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe)) > 0) out.append(buf, n);
  const int status = pclose(pipe);
  if (output != nullptr) *output = std::move(out);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace trellis::testing
