#include "agent/config.h"

#include "gtest/gtest.h"

namespace trellis::agent {
namespace {

// The shape of spire-agent's own agent.conf.
constexpr char kSpireStyle[] = R"(
agent {
    data_dir = "./data"
    log_level = "DEBUG"
    server_address = "10.0.0.5"
    server_port = "8081"
    socket_path = "/tmp/spire-agent/public/api.sock"
    trust_bundle_path = "./conf/agent/bootstrap.crt"   # comment
    trust_domain = "example.org"
    experimental {
        feature_flags = ["Unified-Identity"]
    }
}

plugins {
    NodeAttestor "unified_identity" {
        plugin_data {
            tcti = "swtpm:host=127.0.0.1,port=2321"
            work_dir = "/var/lib/trellis-tpm"
            host_id = "host-a"
        }
    }
    KeyManager "disk" { plugin_data { } }
    // Workload attestation from the socket's peer.
    WorkloadAttestor "unix" {
        plugin_data {}
    }
}

health_checks {
    listener_enabled = true
    bind_address = "127.0.0.1"
    bind_port = "8088"
}
)";

TEST(AgentConfigTest, ReadsSpireAgentConfiguration) {
  absl::StatusOr<AgentConfig> config = ParseConfig(kSpireStyle);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->server_address, "10.0.0.5");
  EXPECT_EQ(config->server_port, 8081);
  EXPECT_EQ(config->trust_domain, "example.org");
  EXPECT_EQ(config->trust_bundle_path, "./conf/agent/bootstrap.crt");
  EXPECT_EQ(config->socket_path, "/tmp/spire-agent/public/api.sock");
  EXPECT_EQ(config->node_attestor, "unified_identity");
  EXPECT_EQ(config->tpm_tcti, "swtpm:host=127.0.0.1,port=2321");
  EXPECT_EQ(config->host_id, "host-a");
  EXPECT_TRUE(config->unified_identity);
  EXPECT_EQ(config->health_address, "127.0.0.1:8088");
  EXPECT_EQ(config->log_level, "DEBUG");
  EXPECT_EQ(config->log_format, "text");
  EXPECT_TRUE(ValidateConfig(*config).ok());
}

TEST(AgentConfigTest, MistakesAreErrorsNamingTheLine) {
  for (const char* text : {
           "agent {\n  trust_domian = \"example.org\"\n}",  // A typo.
           "agent {\n  server_port = \"http\"\n}",
           "agent {\n  insecure_bootstrap = yes\n}",
           "agent {\n  log_level = \"LOUD\"\n}",
           "agent {\n  log_format = \"xml\"\n}",
           "agent {\n  data_dir = \"unterminated\n}",
           "agent {\n  data_dir = \"x\"\n",  // No closing brace.
           "agent {\n  data_dir = \"x\"\n  data_dir = \"y\"\n}",
           "plugins {\n  NodeAttestor \"aws_iid\" {}\n}",
           "server {\n}",
       }) {
    absl::StatusOr<AgentConfig> config = ParseConfig(text);
    EXPECT_EQ(config.status().code(), absl::StatusCode::kInvalidArgument)
        << text;
    EXPECT_NE(config.status().message().find("line"), std::string::npos)
        << config.status();
  }
}

TEST(AgentConfigTest, TelemetryServesPrometheusOnly) {
  absl::StatusOr<AgentConfig> config = ParseConfig(
      "agent {\n  trust_domain = \"example.org\"\n}\n"
      "telemetry {\n  Prometheus {\n    host = \"127.0.0.1\"\n"
      "    port = 9988\n  }\n}\n");
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->metrics_address, "127.0.0.1:9988");
  absl::StatusOr<AgentConfig> read = ParseConfig(FormatConfig(*config));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->metrics_address, "127.0.0.1:9988");
  // spire-agent's other sinks and options keep its files working.
  absl::StatusOr<AgentConfig> spire_style = ParseConfig(
      "telemetry {\n  MetricPrefix = \"x\"\n  Statsd {\n"
      "    address = \"localhost:8125\"\n  }\n}\n");
  ASSERT_TRUE(spire_style.ok()) << spire_style.status();
  EXPECT_EQ(spire_style->metrics_address, "");
  for (const char* text : {
           "telemetry {\n  Graphite {\n    address = \"x\"\n  }\n}\n",
           "telemetry {\n  colour = \"x\"\n}\n",
           "telemetry {\n  Prometheus {\n    host = \"h\"\n  }\n}\n",
           "telemetry {\n  Prometheus {\n    port = 70000\n  }\n}\n",
       }) {
    EXPECT_EQ(ParseConfig(text).status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
}

TEST(AgentConfigTest, FormattedConfigReadsBackWithoutTheJoinToken) {
  AgentConfig config;
  config.trust_domain = "example.org";
  config.server_address = "10.0.0.5";
  config.server_port = 9443;
  config.trust_bundle_url = "https://10.0.0.5:8443/bundle";
  config.trust_bundle_format = "spiffe";
  config.data_dir = "/var/lib/trellis \"agent\"";
  config.socket_path = "/run/spire/api.sock";
  config.join_token = "secret-token-1234";
  config.node_attestor = "unified_identity";
  config.tpm_tcti = "swtpm:host=127.0.0.1,port=2321";
  config.tpm_work_dir = "/var/lib/trellis-tpm";
  config.host_id = "host-7";
  config.pcrs = "sha256:0,7";
  config.unified_identity = true;
  config.health_address = "127.0.0.1:8088";
  config.sync_interval = absl::Milliseconds(1500);
  config.log_level = "WARN";
  config.log_format = "json";
  config.log_file = "/var/log/trellis-agent.log";

  const std::string text = FormatConfig(config);
  EXPECT_EQ(text.find("secret-token-1234"), std::string::npos) << text;
  absl::StatusOr<AgentConfig> read = ParseConfig(text);
  ASSERT_TRUE(read.ok()) << read.status() << "\n" << text;
  EXPECT_EQ(read->trust_domain, config.trust_domain);
  EXPECT_EQ(read->server_address, config.server_address);
  EXPECT_EQ(read->server_port, config.server_port);
  EXPECT_EQ(read->trust_bundle_url, config.trust_bundle_url);
  EXPECT_EQ(read->trust_bundle_format, config.trust_bundle_format);
  EXPECT_EQ(read->data_dir, config.data_dir);
  EXPECT_EQ(read->socket_path, config.socket_path);
  EXPECT_EQ(read->join_token, "");
  EXPECT_EQ(read->node_attestor, config.node_attestor);
  EXPECT_EQ(read->tpm_tcti, config.tpm_tcti);
  EXPECT_EQ(read->tpm_work_dir, config.tpm_work_dir);
  EXPECT_EQ(read->host_id, config.host_id);
  EXPECT_EQ(read->pcrs, config.pcrs);
  EXPECT_TRUE(read->unified_identity);
  EXPECT_EQ(read->health_address, config.health_address);
  EXPECT_EQ(read->sync_interval, config.sync_interval);
  EXPECT_EQ(read->log_level, "WARN");
  EXPECT_EQ(read->log_format, "json");
  EXPECT_EQ(read->log_file, config.log_file);
  read->join_token = config.join_token;
  EXPECT_EQ(FormatConfig(*read), text);
}

TEST(AgentConfigTest, ValidationNeedsOneBootstrapAndTheAttestorsSettings) {
  AgentConfig config;
  config.trust_domain = "example.org";
  EXPECT_FALSE(ValidateConfig(config).ok());  // No bootstrap.
  config.insecure_bootstrap = true;
  EXPECT_TRUE(ValidateConfig(config).ok());
  config.trust_bundle_path = "bundle.pem";
  EXPECT_FALSE(ValidateConfig(config).ok());  // Two bootstraps.
  config.insecure_bootstrap = false;
  config.node_attestor = "tpm";
  EXPECT_FALSE(ValidateConfig(config).ok());  // No TCTI.
  config.tpm_tcti = "device:/dev/tpmrm0";
  EXPECT_TRUE(ValidateConfig(config).ok());
  config.trust_domain.clear();
  EXPECT_FALSE(ValidateConfig(config).ok());
}

}  // namespace
}  // namespace trellis::agent
