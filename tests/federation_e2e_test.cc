// Federation with an unmodified upstream SPIRE server (v1.13.3, built by
// scripts/build_peers.sh): it fetches trellisd's bundle from trellisd's
// SPIFFE bundle endpoint (https_spiffe: the endpoint is authenticated by
// trellisd's server SVID) and keeps it; its own bundle, exported in the
// SPIFFE format by Go code, is set in trellisd as a federated bundle and
// reaches a real spire-agent's Workload API for entries that federate with
// it. The federated bundle API's rules are checked on the way.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/trellisd_process.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using nlohmann::json;

constexpr char kOtherTd[] = "other.test";

std::string ReadAll(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  return bytes.ok() ? *bytes : "";
}

// A TCP port free on loopback right now (the upstream server takes its
// port from its config file, not from port 0).
int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  close(fd);
  return port;
}

class FederationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(PeerBinary("spire-server").c_str(), X_OK), 0)
        << PeerBinary("spire-server")
        << " is missing: run scripts/build_peers.sh";
    port_file_ = dir_.path() + "/bundle-endpoint.port";
    trellisd_ = std::make_unique<TrellisdProcess>(
        dir_.path() + "/trellisd",
        std::vector<std::string>{"--bundle_endpoint_addr=127.0.0.1:0",
                                 "--bundle_endpoint_port_file=" + port_file_});
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (!absl::SimpleAtoi(ReadAll(port_file_), &endpoint_port_) &&
           absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    ASSERT_GT(endpoint_port_, 0);
    addr_ = "--addr=" + trellisd_->operator_address();
  }

  // Runs the upstream server's CLI against its admin socket.
  CliResult Upstream(std::vector<std::string> args) {
    args.push_back("-socketPath");
    args.push_back(upstream_socket_);
    return RunProgram(PeerBinary("spire-server"), args);
  }

  std::unique_ptr<ServerProcess> StartUpstream() {
    const std::string data = dir_.path() + "/upstream";
    mkdir(data.c_str(), 0700);
    upstream_socket_ = absl::StrCat("/tmp/trellis-fed-", getpid(), ".sock");
    const std::string config = absl::StrCat(
        "server {\n  bind_address = \"127.0.0.1\"\n  bind_port = \"",
        upstream_port_, "\"\n  socket_path = \"", upstream_socket_,
        "\"\n  trust_domain = \"", kOtherTd, "\"\n  data_dir = \"", data,
        "\"\n  log_level = \"DEBUG\"\n",
        "  federation {\n    federates_with \"example.org\" {\n",
        "      bundle_endpoint_url = \"https://127.0.0.1:", endpoint_port_,
        "\"\n      bundle_endpoint_profile \"https_spiffe\" {\n",
        "        endpoint_spiffe_id = \"spiffe://example.org/spire/server\"\n",
        "      }\n    }\n  }\n}\nplugins {\n",
        "  DataStore \"sql\" { plugin_data { database_type = \"sqlite3\" "
        "connection_string = \"",
        data, "/datastore.sqlite3\" } }\n",
        "  KeyManager \"memory\" { plugin_data {} }\n",
        "  NodeAttestor \"join_token\" { plugin_data {} }\n}\n");
    const std::string path = data + "/server.conf";
    EXPECT_TRUE(ReplaceFile(path, config, 0600).ok());
    auto server = std::make_unique<ServerProcess>(
        std::vector<std::string>{PeerBinary("spire-server"), "run", "-config",
                                 path},
        "");
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (Upstream({"healthcheck"}).exit_code != 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(200));
    }
    return server;
  }

  TempDir dir_;
  std::unique_ptr<TrellisdProcess> trellisd_;
  std::string port_file_;
  int endpoint_port_ = 0;
  int upstream_port_ = FreePort();
  std::string upstream_socket_;
  std::string addr_;
};

TEST_F(FederationTest, UpstreamServerFetchesOurBundleAndWeHoldTheirs) {
  // Our bundle, as an operator exports it (SPIFFE format: X.509 roots and
  // JWT keys).
  CliResult ours =
      RunCli({addr_, "spire", "bundle", "show", "--format=spiffe"});
  ASSERT_EQ(ours.exit_code, 0) << ours.err;
  const json our_bundle = json::parse(ours.out, nullptr, false);
  ASSERT_TRUE(our_bundle.is_object()) << ours.out;
  std::string our_kid;
  for (const json& key : our_bundle["keys"]) {
    if (key["use"] == "jwt-svid") our_kid = key["kid"];
  }
  ASSERT_FALSE(our_kid.empty()) << ours.out;

  // The upstream server is bootstrapped with our X.509 roots only; it then
  // authenticates our endpoint with them and fetches the full bundle (the
  // JWT key shows that it did). Its updater starts on start-up, so the
  // bootstrap bundle goes in before a restart.
  CliResult pem = RunCli({addr_, "spire", "bundle", "show"});
  ASSERT_EQ(pem.exit_code, 0);
  const std::string pem_path = dir_.path() + "/ours.pem";
  ASSERT_TRUE(ReplaceFile(pem_path, pem.out, 0644).ok());
  std::unique_ptr<ServerProcess> upstream = StartUpstream();
  CliResult set = Upstream(
      {"bundle", "set", "-id", "spiffe://example.org", "-path", pem_path});
  ASSERT_EQ(set.exit_code, 0) << set.out << set.err;
  upstream.reset();
  upstream = StartUpstream();
  CliResult fetched;
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  do {
    fetched = Upstream(
        {"bundle", "list", "-id", "spiffe://example.org", "-format", "spiffe"});
    if (absl::StrContains(fetched.out, our_kid)) break;
    absl::SleepFor(absl::Milliseconds(500));
  } while (absl::Now() < deadline);
  EXPECT_TRUE(absl::StrContains(fetched.out, our_kid))
      << "the upstream server never fetched our bundle: " << fetched.out
      << fetched.err;

  // Their bundle, exported by Go, goes into trellisd as a federated bundle.
  CliResult theirs = Upstream({"bundle", "show", "-format", "spiffe"});
  ASSERT_EQ(theirs.exit_code, 0) << theirs.err;
  const std::string theirs_path = dir_.path() + "/theirs.json";
  ASSERT_TRUE(ReplaceFile(theirs_path, theirs.out, 0644).ok());
  CliResult stored =
      RunCli({addr_, "spire", "bundle", "set", "--id=spiffe://other.test",
              "--path=" + theirs_path, "--format=spiffe"});
  ASSERT_EQ(stored.exit_code, 0) << stored.out << stored.err;
  CliResult listed = RunCli(
      {addr_, "spire", "bundle", "list", "--id=other.test", "--format=spiffe"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  const json upstream_doc = json::parse(theirs.out, nullptr, false);
  const json held = json::parse(listed.out, nullptr, false);
  ASSERT_TRUE(upstream_doc.is_object() && held.is_object());
  EXPECT_EQ(held["keys"].size(), upstream_doc["keys"].size());
  EXPECT_EQ(held["spiffe_sequence"], upstream_doc["spiffe_sequence"]);
  CliResult count = RunCli({addr_, "spire", "bundle", "count"});
  EXPECT_NE(count.out.find("Count: 2"), std::string::npos) << count.out;

  // An entry federating with it: deleting the bundle is refused while the
  // entry exists (RESTRICT), and DISSOCIATE keeps the entry.
  CliResult entry =
      RunCli({addr_, "spire", "entry", "create",
              "--parent_id=spiffe://example.org/spire/agent/join_token/x",
              "--spiffe_id=spiffe://example.org/fed", "--selector=unix:uid:1",
              "--federates_with=spiffe://other.test"});
  ASSERT_EQ(entry.exit_code, 0) << entry.out << entry.err;
  EXPECT_EQ(
      RunCli({addr_, "spire", "bundle", "delete", "--id=other.test"}).exit_code,
      1);
  EXPECT_EQ(RunCli({addr_, "spire", "bundle", "delete", "--id=other.test",
                    "--mode=dissociate"})
                .exit_code,
            0);
  CliResult after = RunCli({addr_, "spire", "entry", "show",
                            "--spiffe_id=spiffe://example.org/fed"});
  ASSERT_EQ(after.exit_code, 0);
  EXPECT_EQ(after.out.find("other.test"), std::string::npos) << after.out;
  EXPECT_EQ(
      RunCli({addr_, "spire", "bundle", "list", "--id=other.test"}).exit_code,
      1);
  // Our own trust domain has no federated bundle.
  EXPECT_EQ(RunCli({addr_, "spire", "bundle", "set", "--id=example.org",
                    "--path=" + pem_path})
                .exit_code,
            1);
}

}  // namespace
}  // namespace trellis::testing
