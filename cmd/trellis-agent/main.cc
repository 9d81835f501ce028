// trellis-agent: Trellis' node agent. It attests this node to trellisd's
// SPIRE API (join token, TPM or sovereign evidence), keeps the SVIDs of the
// node's authorised entries current, and serves them to local workloads
// over the SPIFFE Workload API on a Unix socket.
//
//   trellis-agent run -config agent.conf [--join_token T] [--socket_path P]
//                     [--data_dir D] [--print_config]
//
// The configuration file has spire-agent's shape (README: "Node agent").
// SIGTERM / SIGINT shut it down cleanly; exit status 1 if the server
// refuses or bans the agent.
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "agent/agent.h"
#include "agent/agent_metrics.h"
#include "agent/config.h"
#include "agent/workload_api.h"
#include "agent/workload_endpoint.h"
#include "http/server.h"
#include "logging/log.h"
#include "metrics/exposition.h"
#include "metrics/grpc_metrics.h"
#include "prometheus/registry.h"
#include "util/file.h"

ABSL_FLAG(std::string, config, "", "The agent configuration file.");
ABSL_FLAG(std::string, join_token, "",
          "A join token to attest with (overrides the file's).");
ABSL_FLAG(std::string, socket_path, "",
          "The Workload API socket (overrides the file's).");
ABSL_FLAG(std::string, data_dir, "", "The data directory (overrides).");
ABSL_FLAG(bool, print_config, false,
          "Print the effective configuration (the file with the flags "
          "applied) and exit.");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "trellis-agent: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() != 2 || std::string(args[1]) != "run") {
    std::fprintf(stderr, "usage: trellis-agent run -config FILE\n");
    return 2;
  }
  // Signals are taken synchronously below; threads started later inherit
  // the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGHUP);  // Reopen log_file (logrotate).
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  absl::StatusOr<std::string> text =
      trellis::ReadFile(absl::GetFlag(FLAGS_config));
  if (!text.ok()) return Fail(std::string(text.status().message()));
  absl::StatusOr<trellis::agent::AgentConfig> config =
      trellis::agent::ParseConfig(*text);
  if (!config.ok()) return Fail(std::string(config.status().message()));
  if (std::string token = absl::GetFlag(FLAGS_join_token); !token.empty()) {
    config->join_token = token;
  }
  if (std::string path = absl::GetFlag(FLAGS_socket_path); !path.empty()) {
    config->socket_path = path;
  }
  if (std::string dir = absl::GetFlag(FLAGS_data_dir); !dir.empty()) {
    config->data_dir = dir;
  }

  if (absl::GetFlag(FLAGS_print_config)) {
    std::fputs(trellis::agent::FormatConfig(*config).c_str(), stdout);
    return 0;
  }

  if (absl::Status s = trellis::logging::ConfigureFromText(
          config->log_level, config->log_format, config->log_file);
      !s.ok()) {
    return Fail(std::string(s.message()));
  }
  absl::StatusOr<std::unique_ptr<trellis::agent::Agent>> agent =
      trellis::agent::Agent::Start(*config);
  if (!agent.ok()) return Fail(agent.status().ToString());
  trellis::agent::PeerDirectory peers;
  trellis::agent::WorkloadApi api(agent->get(), &peers);
  // Metrics (telemetry { Prometheus { ... } }): the Workload API's calls
  // with go-grpc-prometheus's names, and the agent's state.
  auto registry = std::make_shared<prometheus::Registry>();
  std::unique_ptr<trellis::metrics::GrpcMetrics> grpc_metrics;
  trellis::agent::WorkloadEndpoint::Interceptors interceptors;
  if (!config->metrics_address.empty()) {
    grpc_metrics = std::make_unique<trellis::metrics::GrpcMetrics>(*registry);
    interceptors.push_back(grpc_metrics->InterceptorFactory());
  }
  absl::StatusOr<std::unique_ptr<trellis::agent::WorkloadEndpoint>> endpoint =
      trellis::agent::WorkloadEndpoint::Start(config->socket_path, {&api},
                                              &peers, std::move(interceptors));
  if (!endpoint.ok()) return Fail(endpoint.status().ToString());

  std::unique_ptr<trellis::http::Server> health;
  if (!config->health_address.empty()) {
    trellis::http::Router router;
    router.Get("/live",
               [](const trellis::http::Request&, trellis::http::Response& res) {
                 res.body = "{\"live\":true}";
               });
    trellis::agent::Agent* a = agent->get();
    router.Get("/ready", [a](const trellis::http::Request&,
                             trellis::http::Response& res) {
      const bool ready = a->Current()->generation > 0 && !a->banned();
      res.status = ready ? 200 : 503;
      res.body = absl::StrCat("{\"ready\":", ready ? "true" : "false", "}");
    });
    trellis::http::ServerOptions options;
    options.address = config->health_address;
    absl::StatusOr<std::unique_ptr<trellis::http::Server>> started =
        trellis::http::Server::Start(options, std::move(router));
    if (!started.ok()) return Fail(started.status().ToString());
    health = std::move(*started);
  }
  std::unique_ptr<trellis::http::Server> metrics_server;
  if (!config->metrics_address.empty()) {
    trellis::http::Router router;
    trellis::metrics::AddMetricsRoute(
        router, {registry, trellis::agent::AgentStateCollector(agent->get())});
    trellis::http::ServerOptions options;
    options.address = config->metrics_address;
    absl::StatusOr<std::unique_ptr<trellis::http::Server>> started =
        trellis::http::Server::Start(options, std::move(router));
    if (!started.ok()) return Fail(started.status().ToString());
    metrics_server = std::move(*started);
    trellis::logging::Info("trellis-agent", "serving metrics",
                           {{"address", config->metrics_address},
                            {"port", absl::StrCat(metrics_server->port())}});
  }
  trellis::logging::Info("trellis-agent", "serving the Workload API",
                         {{"socket", config->socket_path}});

  // Wait for a signal, or for the server to ban the agent.
  for (;;) {
    const timespec tick = {1, 0};
    const int received = sigtimedwait(&signals, nullptr, &tick);
    if (received == SIGTERM || received == SIGINT) break;
    if (received == SIGHUP) {
      if (absl::Status s = trellis::logging::Reopen(); !s.ok()) {
        trellis::logging::Error("trellis-agent", "cannot reopen the log file",
                                {{"error", s.ToString()}});
      }
    }
    if ((*agent)->banned()) {
      endpoint->reset();
      return Fail("the server refused this agent; its SVID was deleted");
    }
  }
  metrics_server.reset();  // Its scrapes read the agent.
  health.reset();
  endpoint->reset();
  agent->reset();
  return 0;
}
