// End-to-end test support: runs the real trellisd and trellis binaries as
// child processes on loopback, each server with its own data directory.
#ifndef TRELLIS_TESTS_TRELLISD_PROCESS_H_
#define TRELLIS_TESTS_TRELLISD_PROCESS_H_

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "trillian_admin_api.grpc.pb.h"
#include "trillian_log_api.grpc.pb.h"

namespace trellis::testing {

// A server binary (a runfile such as "cmd/trellis-tpm/trellis-tpm") run as
// a child process; it must write the port it bound to `port_file` (empty:
// a process that binds nothing the test waits for).
class ServerProcess {
 public:
  // Starts `argv` and waits until the port file names a port. Aborts the
  // test binary if the server exits or does not start within 30 s.
  ServerProcess(const std::vector<std::string>& argv,
                const std::string& port_file);
  ~ServerProcess();  // Kill()s if still running.
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  int port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }

  // The exit status once the process exits by itself, nullopt if it still
  // runs after `timeout`.
  std::optional<int> WaitForExit(absl::Duration timeout);
  // SIGTERM and wait; returns the exit status (0 for a clean shutdown).
  int Stop();
  // SIGKILL and wait: a crash.
  void Kill();

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

class TrellisdProcess : public ServerProcess {
 public:
  // Starts trellisd on 127.0.0.1 with a free port and `data_dir`; waits
  // until it serves.
  TrellisdProcess(const std::string& data_dir,
                  std::vector<std::string> extra_flags = {});

  // The attestation verifier's HTTPS port, and its self-signed certificate.
  int verifier_port() const { return verifier_port_; }
  // The SPIRE server API's port.
  int spire_port() const { return spire_port_; }
  std::string verifier_ca_file() const {
    return data_dir_ + "/verifier-tls/cert.pem";
  }
  // The GTA service API's HTTPS port, and its self-signed certificate.
  int gta_port() const { return gta_port_; }
  std::string gta_ca_file() const { return data_dir_ + "/gta-tls/cert.pem"; }
  // The tlog-tiles listener's port (plain HTTP).
  int tlog_port() const { return tlog_port_; }
  // The Prometheus /metrics listener's port (plain HTTP).
  int metrics_port() const { return metrics_port_; }

  // The operator socket ("unix:PATH", for gRPC).
  std::string operator_address() const;

  std::shared_ptr<grpc::Channel> Channel() const;
  std::unique_ptr<trillian::TrillianLog::Stub> LogStub() const;
  std::unique_ptr<trillian::TrillianAdmin::Stub> AdminStub() const;

 private:
  std::string data_dir_;
  int verifier_port_ = 0;
  int spire_port_ = 0;
  int gta_port_ = 0;
  int tlog_port_ = 0;
  int metrics_port_ = 0;
};

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;  // Also copied to the test's stderr.
};

// A loopback TCP port free at the time of the call, for peers that cannot
// report the port they bound.
int FreeLoopbackPort();

// A real peer built by scripts/build_peers.sh (spire-agent, spire-server,
// spire-agent-v0.10.0): in $TRELLIS_PEERS_BIN, else ~/.cache/trellis/bin.
std::string PeerBinary(const std::string& name);

// Runs a runfiles binary with `args`, feeding `input` on stdin.
CliResult RunProgram(const std::string& binary,
                     const std::vector<std::string>& args,
                     const std::string& input = "");

// Runs the trellis CLI with `args`, feeding `input` on stdin. Unless the
// test sets XDG_STATE_HOME, the CLI's default state directory (pinned keys,
// remembered roots) is under TEST_TMPDIR, never the user's.
CliResult RunCli(const std::vector<std::string>& args,
                 const std::string& input = "");

}  // namespace trellis::testing

#endif  // TRELLIS_TESTS_TRELLISD_PROCESS_H_
