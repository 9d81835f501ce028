#include "tests/trellisd_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/create_channel.h"

extern char** environ;

namespace trellis::testing {
namespace {

// Binaries are runfiles of the test (cwd is the workspace runfiles root).
constexpr char kTrellisd[] = "cmd/trellisd/trellisd";
constexpr char kTrellis[] = "cmd/trellis/trellis";

// Runs `argv` with our environment plus `extra_env` ("NAME=value").
pid_t Spawn(const std::vector<std::string>& argv, int stdin_fd, int stdout_fd,
            int stderr_fd = -1,
            const std::vector<std::string>& extra_env = {}) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (stdin_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdin_fd, 0);
  if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stdout_fd, 1);
  if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions, stderr_fd, 2);
  std::vector<char*> args;
  for (const std::string& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  for (const std::string& e : extra_env) {
    env.push_back(const_cast<char*>(e.c_str()));
  }
  env.push_back(nullptr);
  pid_t pid = -1;
  if (posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data()) !=
      0) {
    std::perror("posix_spawn");
    std::abort();
  }
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

int WaitFor(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

ServerProcess::ServerProcess(const std::vector<std::string>& argv,
                             const std::string& port_file) {
  if (port_file.empty()) {
    pid_ = Spawn(argv, -1, -1);
    return;
  }
  std::remove(port_file.c_str());
  pid_ = Spawn(argv, -1, -1);
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    std::ifstream in(port_file);
    if (in >> port_ && port_ > 0) return;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      std::fprintf(stderr, "%s exited during start-up\n", argv[0].c_str());
      std::abort();
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  std::fprintf(stderr, "%s did not start\n", argv[0].c_str());
  Kill();
  std::abort();
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Kill();
}

int ServerProcess::Stop() {
  kill(pid_, SIGTERM);
  const int code = WaitFor(pid_);
  pid_ = -1;
  return code;
}

std::optional<int> ServerProcess::WaitForExit(absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  do {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(20));
  } while (absl::Now() < deadline);
  return std::nullopt;
}

void ServerProcess::Kill() {
  kill(pid_, SIGKILL);
  WaitFor(pid_);
  pid_ = -1;
}

namespace {
// Unix socket paths are limited to 107 bytes; test data directories can be
// longer, so the operator socket goes to /tmp.
std::string OperatorSocketFor(const std::string& data_dir) {
  return absl::StrCat("/tmp/trellis-op-", getpid(), "-",
                      absl::Hash<std::string>()(data_dir) % 1000000007,
                      ".sock");
}

std::vector<std::string> TrellisdArgs(const std::string& data_dir,
                                      std::vector<std::string> extra_flags) {
  std::vector<std::string> argv = {
      kTrellisd,
      "--data_dir=" + data_dir,
      "--operator_socket=" + OperatorSocketFor(data_dir),
      "--grpc_addr=127.0.0.1:0",
      "--port_file=" + data_dir + ".port",
      "--verifier_addr=127.0.0.1:0",
      "--verifier_port_file=" + data_dir + ".verifier_port",
      "--spire_addr=127.0.0.1:0",
      "--spire_port_file=" + data_dir + ".spire_port",
      "--gta_addr=127.0.0.1:0",
      "--gta_port_file=" + data_dir + ".gta_port",
      "--tlog_addr=127.0.0.1:0",
      "--tlog_port_file=" + data_dir + ".tlog_port",
      "--metrics_addr=127.0.0.1:0",
      "--metrics_port_file=" + data_dir + ".metrics_port"};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  return argv;
}
}  // namespace

TrellisdProcess::TrellisdProcess(const std::string& data_dir,
                                 std::vector<std::string> extra_flags)
    : ServerProcess(TrellisdArgs(data_dir, std::move(extra_flags)),
                    data_dir + ".port"),
      data_dir_(data_dir) {
  std::ifstream(data_dir + ".verifier_port") >> verifier_port_;
  std::ifstream(data_dir + ".spire_port") >> spire_port_;
  std::ifstream(data_dir + ".gta_port") >> gta_port_;
  std::ifstream(data_dir + ".tlog_port") >> tlog_port_;
  std::ifstream(data_dir + ".metrics_port") >> metrics_port_;
}

std::string TrellisdProcess::operator_address() const {
  return "unix:" + OperatorSocketFor(data_dir_);
}

std::shared_ptr<grpc::Channel> TrellisdProcess::Channel() const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  return grpc::CreateCustomChannel(address(),
                                   grpc::InsecureChannelCredentials(), args);
}

std::unique_ptr<trillian::TrillianLog::Stub> TrellisdProcess::LogStub() const {
  return trillian::TrillianLog::NewStub(Channel());
}

std::unique_ptr<trillian::TrillianAdmin::Stub> TrellisdProcess::AdminStub()
    const {
  return trillian::TrillianAdmin::NewStub(Channel());
}

namespace {

CliResult Run(const std::string& binary, const std::vector<std::string>& args,
              const std::string& input,
              const std::vector<std::string>& extra_env) {
  char in_path[] = "/tmp/trellis-cli-in-XXXXXX";
  char out_path[] = "/tmp/trellis-cli-out-XXXXXX";
  char err_path[] = "/tmp/trellis-cli-err-XXXXXX";
  const int in_fd = mkstemp(in_path);
  const int out_fd = mkstemp(out_path);
  const int err_fd = mkstemp(err_path);
  if (write(in_fd, input.data(), input.size()) !=
      static_cast<ssize_t>(input.size())) {
    std::abort();
  }
  lseek(in_fd, 0, SEEK_SET);
  std::vector<std::string> argv = {binary};
  argv.insert(argv.end(), args.begin(), args.end());
  CliResult result;
  result.exit_code = WaitFor(Spawn(argv, in_fd, out_fd, err_fd, extra_env));
  std::ifstream out(out_path);
  result.out.assign(std::istreambuf_iterator<char>(out), {});
  std::ifstream err(err_path);
  result.err.assign(std::istreambuf_iterator<char>(err), {});
  std::fputs(result.err.c_str(), stderr);
  close(in_fd);
  close(out_fd);
  close(err_fd);
  unlink(in_path);
  unlink(out_path);
  unlink(err_path);
  return result;
}

}  // namespace

int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (fd < 0 ||
      bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::perror("FreeLoopbackPort");
    std::abort();
  }
  close(fd);
  return ntohs(address.sin_port);
}

std::string PeerBinary(const std::string& name) {
  const char* bin = std::getenv("TRELLIS_PEERS_BIN");
  const char* home = std::getenv("HOME");
  return absl::StrCat(
      bin != nullptr ? std::string(bin)
                     : absl::StrCat(home ? home : "", "/.cache/trellis/bin"),
      "/", name);
}

CliResult RunProgram(const std::string& binary,
                     const std::vector<std::string>& args,
                     const std::string& input) {
  return Run(binary, args, input, {});
}

CliResult RunCli(const std::vector<std::string>& args,
                 const std::string& input) {
  // Tests must not pin keys in (or read them from) the user's state.
  std::vector<std::string> env;
  if (std::getenv("XDG_STATE_HOME") == nullptr) {
    const char* tmp = std::getenv("TEST_TMPDIR");
    env.push_back(absl::StrCat("XDG_STATE_HOME=", tmp != nullptr ? tmp : "/tmp",
                               "/trellis-xdg-state-", getpid()));
  }
  return Run(kTrellis, args, input, env);
}

}  // namespace trellis::testing
