// trellis-agent's configuration: the file spire-agent reads (HCL: an
// `agent { ... }` block and `plugins { Kind "name" { plugin_data { ... } } }`),
// the subset of it this agent understands. Unknown keys are errors, so a
// typo never silently falls back to a default.
#ifndef TRELLIS_AGENT_CONFIG_H_
#define TRELLIS_AGENT_CONFIG_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace trellis::agent {

struct AgentConfig {
  std::string server_address = "127.0.0.1";
  int server_port = 8081;
  std::string trust_domain;
  // How the agent first trusts the server: a PEM bundle file, a URL serving
  // one (https), or no check of the chain at all (only the server's ID).
  std::string trust_bundle_path;
  std::string trust_bundle_url;
  // What trust_bundle_url serves: "pem" or "spiffe" (a SPIFFE bundle
  // document, as SPIFFE bundle endpoints serve).
  std::string trust_bundle_format = "pem";
  bool insecure_bootstrap = false;
  std::string data_dir = "./data";
  std::string socket_path = "/tmp/spire-agent/public/api.sock";
  std::string join_token;
  // The node attestor: join_token, tpm (spire-tpm-plugin's protocol) or
  // unified_identity (sovereign evidence from this host's TPM).
  std::string node_attestor = "join_token";
  // TPM access for the tpm and unified_identity attestors (a tpm2-tss TCTI)
  // and, for unified_identity, trellis-tpm's work directory (the host's
  // registered AK), its host id and the PCRs to quote.
  std::string tpm_tcti;
  std::string tpm_work_dir;
  std::string host_id;
  std::string pcrs = "sha256:0,1,2,3,4,5,6,7,10";
  // Sovereign evidence on Workload API requests (the Unified-Identity
  // feature flag, as in `experimental { feature_flags = [...] }`).
  bool unified_identity = false;
  // Health endpoint (HTTP /live and /ready); empty: off.
  std::string health_address;
  // Prometheus /metrics (spire-agent's telemetry { Prometheus { host port }
  // }); empty: off.
  std::string metrics_address;
  absl::Duration sync_interval = absl::Seconds(5);
  // spire-agent's log settings: DEBUG, INFO, WARN or ERROR; text or json;
  // a file to append to (reopened on SIGHUP), else stderr.
  std::string log_level = "INFO";
  std::string log_format = "text";
  std::string log_file;
};

// Parses the configuration text; INVALID_ARGUMENT naming the line for
// syntax errors and unknown keys.
absl::StatusOr<AgentConfig> ParseConfig(absl::string_view text);

// The configuration in the file's shape, which ParseConfig reads back to the
// same settings; the join token, a secret, is only said to be set.
std::string FormatConfig(const AgentConfig& config);

// INVALID_ARGUMENT unless the configuration can run: a trust domain, one
// bootstrap way, a join token for join_token, TPM settings for the others.
absl::Status ValidateConfig(const AgentConfig& config);

}  // namespace trellis::agent

#endif  // TRELLIS_AGENT_CONFIG_H_
