// trellis-agent end to end: a real trellisd, the agent attesting with a join
// token (trust bundle file and insecure bootstrap), and real Workload API
// clients: spire-agent's `api fetch|validate` and a C++ client of
// go-spiffe's workload.proto. Workloads get X509- and JWT-SVIDs that verify
// against the bundle; a new entry is pushed on an open stream; callers
// without the security header or matching no entry are refused; the agent
// restarts from its data directory without a new token; a banned agent
// stops.
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "attest/testing/swtpm.h"
#include "ca/svid_verify.h"
#include "ca/x509.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "re2/re2.h"
#include "spiffe/bundle_document.h"
#include "spiffe/workload/workload.grpc.pb.h"
#include "spire/api/server/agent/v1/agent.grpc.pb.h"
#include "spire/api/server/bundle/v1/bundle.grpc.pb.h"
#include "spire/api/server/entry/v1/entry.grpc.pb.h"
#include "tests/metrics_scrape.h"
#include "tests/spire_operator.h"
#include "tests/trellisd_process.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

namespace agent_v1 = spire::api::server::agent::v1;
namespace entry_v1 = spire::api::server::entry::v1;
namespace bundle_v1 = spire::api::server::bundle::v1;
using spire::api::types::SovereignAttestation;

constexpr char kTd[] = "example.org";
constexpr char kTrellisAgent[] = "cmd/trellis-agent/trellis-agent";

std::string SpireAgent() { return PeerBinary("spire-agent"); }

class TrellisAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    trellisd_ = std::make_unique<TrellisdProcess>(
        dir_.path() + "/trellisd",
        std::vector<std::string>{"--log_file=" + dir_.path() +
                                 "/trellisd.log"});
    auto channel = grpc::CreateChannel(trellisd_->operator_address(),
                                       grpc::InsecureChannelCredentials());
    agents_ = agent_v1::Agent::NewStub(channel);
    entries_ = entry_v1::Entry::NewStub(channel);
    bundles_ = bundle_v1::Bundle::NewStub(channel);
    socket_ = absl::StrCat("/tmp/trellis-agent-", getpid(), ".sock");
  }
  void TearDown() override { unlink(socket_.c_str()); }

  // Writes the agent's configuration (bundle empty: insecure bootstrap)
  // with `node_attestor` (a plugin block) and `experimental` lines.
  std::string WriteConfig(const std::string& bundle,
                          const std::string& node_attestor =
                              "NodeAttestor \"join_token\" { plugin_data {} }",
                          const std::string& experimental = "") {
    const std::string data = dir_.path() + "/agent";
    const std::string config = absl::StrCat(
        "agent {\n  trust_domain = \"", kTd, "\"\n",
        "  server_address = \"127.0.0.1\"\n  server_port = \"",
        trellisd_->spire_port(), "\"\n  data_dir = \"", data, "\"\n",
        "  socket_path = \"", socket_, "\"\n",
        bundle.empty()
            ? "  insecure_bootstrap = true\n"
            : absl::StrCat("  trust_bundle_path = \"", bundle, "\"\n"),
        "  experimental {\n    sync_interval = \"1s\"\n", experimental,
        "  }\n}\n", "plugins {\n  ", node_attestor, "\n",
        "  WorkloadAttestor \"unix\" { plugin_data {} }\n}\n");
    const std::string path = dir_.path() + "/agent.conf";
    EXPECT_TRUE(ReplaceFile(path, config, 0600).ok());
    return path;
  }

  // Starts trellis-agent and waits for its socket.
  std::unique_ptr<ServerProcess> StartAgent(const std::string& config,
                                            const std::string& token) {
    std::vector<std::string> argv = {kTrellisAgent, "run", "-config", config};
    if (!token.empty()) argv.push_back("--join_token=" + token);
    auto agent = std::make_unique<ServerProcess>(argv, "");
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    struct stat st;
    while (stat(socket_.c_str(), &st) != 0 && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_EQ(stat(socket_.c_str(), &st), 0) << "no Workload API socket";
    EXPECT_EQ(st.st_mode & 0777, 0777u);
    return agent;
  }

  void CreateEntriesFor(const std::string& token, const std::string& prefix,
                        int count, const std::string& selector) {
    testing::CreateEntries(*entries_, kTd, "/spire/agent/join_token/" + token,
                           prefix, count, selector);
  }

  std::vector<std::string> Roots() {
    grpc::ClientContext context;
    spire::api::types::Bundle bundle;
    EXPECT_TRUE(bundles_->GetBundle(&context, {}, &bundle).ok());
    std::vector<std::string> roots;
    for (const auto& a : bundle.x509_authorities()) roots.push_back(a.asn1());
    return roots;
  }

  std::unique_ptr<SpiffeWorkloadAPI::Stub> WorkloadClient() {
    return SpiffeWorkloadAPI::NewStub(grpc::CreateChannel(
        "unix:" + socket_, grpc::InsecureChannelCredentials()));
  }

  // `spire-agent api fetch x509` into `out` until it writes an SVID.
  bool FetchWithSpireAgent(const std::string& out) {
    mkdir(out.c_str(), 0700);
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      CliResult fetch =
          RunProgram(SpireAgent(), {"api", "fetch", "x509", "-socketPath",
                                    socket_, "-write", out, "-timeout", "5s"});
      if (fetch.exit_code == 0 &&
          access((out + "/svid.0.pem").c_str(), F_OK) == 0) {
        return true;
      }
      absl::SleepFor(absl::Milliseconds(300));
    }
    return false;
  }

  TempDir dir_;
  std::unique_ptr<TrellisdProcess> trellisd_;
  std::unique_ptr<agent_v1::Agent::Stub> agents_;
  std::unique_ptr<entry_v1::Entry::Stub> entries_;
  std::unique_ptr<bundle_v1::Bundle::Stub> bundles_;
  std::string socket_;
};

TEST_F(TrellisAgentTest, ServesWorkloadsThroughTheWorkloadApi) {
  ASSERT_EQ(access(SpireAgent().c_str(), X_OK), 0)
      << SpireAgent() << " is missing: run scripts/build_peers.sh";
  const std::string token = CreateToken(*agents_);
  CreateEntriesFor(token, "mine", 2, absl::StrCat("unix:uid:", getuid()));
  const std::string bundle =
      WriteBundle(*bundles_, kTd, dir_.path() + "/bundle.pem");
  // With spire-agent's Prometheus telemetry block.
  const int metrics_port = FreeLoopbackPort();
  const std::string config = WriteConfig(bundle);
  ASSERT_TRUE(ReplaceFile(config,
                          ReadFile(config).value_or("") +
                              absl::StrCat("telemetry {\n  Prometheus {\n"
                                           "    host = \"127.0.0.1\"\n"
                                           "    port = ",
                                           metrics_port, "\n  }\n}\n"),
                          0600)
                  .ok());
  std::unique_ptr<ServerProcess> agent = StartAgent(config, token);

  // spire-agent's Workload API client: SVIDs that openssl verifies against
  // the bundle the agent served, for this workload's entries.
  const std::string out = dir_.path() + "/fetched";
  ASSERT_TRUE(FetchWithSpireAgent(out));
  for (int i = 0; i < 2; ++i) {
    const std::string svid = absl::StrCat(out, "/svid.", i, ".pem");
    CliResult verify =
        RunProgram("/usr/bin/openssl",
                   {"verify", "-x509_strict", "-purpose", "sslclient",
                    "-CAfile", absl::StrCat(out, "/bundle.", i, ".pem"), svid});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    absl::StatusOr<ca::VerifiedSvid> verified =
        ca::VerifySvidChain(ReadFile(svid).value_or(""), Roots());
    ASSERT_TRUE(verified.ok()) << verified.status();
    EXPECT_TRUE(absl::StartsWith(verified->spiffe_id,
                                 "spiffe://example.org/workload/mine/"));
  }

  // JWT-SVIDs: fetched, then validated by the agent against its JWT bundle.
  CliResult jwt = RunProgram(SpireAgent(), {"api", "fetch", "jwt", "-audience",
                                            "db", "-socketPath", socket_});
  ASSERT_EQ(jwt.exit_code, 0) << jwt.err;
  std::string token_text;
  ASSERT_TRUE(RE2::PartialMatch(jwt.out, "(eyJ[A-Za-z0-9_.-]+)", &token_text))
      << jwt.out;
  CliResult valid =
      RunProgram(SpireAgent(), {"api", "validate", "jwt", "-audience", "db",
                                "-svid", token_text, "-socketPath", socket_});
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  EXPECT_NE(valid.out.find("spiffe://example.org/workload/mine/"),
            std::string::npos)
      << valid.out;
  CliResult wrong_audience =
      RunProgram(SpireAgent(), {"api", "validate", "jwt", "-audience", "web",
                                "-svid", token_text, "-socketPath", socket_});
  EXPECT_NE(wrong_audience.exit_code, 0);

  // go-spiffe's client: every SVID verifies with its x509svid.Verify, the
  // JWT-SVID with jwtsvid.ParseAndValidate and the agent's ValidateJWTSVID;
  // its watch sees the update an entry created while it watches brings.
  const std::string check = PeerBinary("workload-check");
  ASSERT_EQ(access(check.c_str(), X_OK), 0)
      << check << " is missing: run scripts/build_peers.sh";
  CliResult watched;
  std::thread watcher([&] {
    watched = RunProgram(check, {"-socket", socket_, "-audience", "db",
                                 "-watch", "1", "-timeout", "30s"});
  });
  std::atomic<bool> done{false};
  int extra = 0;
  std::thread creator([&] {
    while (!done && extra < 40) {
      absl::SleepFor(absl::Milliseconds(500));
      CreateEntriesFor(token, absl::StrCat("watched", extra++), 1,
                       absl::StrCat("unix:uid:", getuid()));
    }
  });
  watcher.join();
  done = true;
  creator.join();
  ASSERT_EQ(watched.exit_code, 0) << watched.out << watched.err;
  const nlohmann::json report = nlohmann::json::parse(watched.out);
  EXPECT_GE(report["x509_svids"].size(), 2u);
  EXPECT_TRUE(absl::StartsWith(report["jwt_subject"].get<std::string>(),
                               "spiffe://example.org/workload/"));
  EXPECT_EQ(report["validated_by_agent"], report["jwt_subject"]);
  EXPECT_EQ(report["updates"], 1);
  const int served = 2 + extra;
  // The agent's own metrics: its Workload API calls by method and code (as
  // go-grpc-prometheus names them) and its state.
  const nlohmann::json agent_scrape = ScrapeMetrics(metrics_port);
  EXPECT_EQ(agent_scrape["problems"], nlohmann::json::array());
  const std::map<std::string, std::string> validate = {
      {"grpc_service", "SpiffeWorkloadAPI"},
      {"grpc_method", "ValidateJWTSVID"}};
  EXPECT_GE(MetricSum(agent_scrape, "grpc_server_handled_total",
                      {{"grpc_method", "FetchJWTSVID"}, {"grpc_code", "OK"}}),
            1);
  EXPECT_GE(
      MetricSum(agent_scrape, "grpc_server_handled_total",
                {{"grpc_method", "ValidateJWTSVID"}, {"grpc_code", "OK"}}),
      2);  // spire-agent's validate and go-spiffe's.
  EXPECT_EQ(
      MetricSum(agent_scrape, "grpc_server_handled_total", validate) -
          MetricSum(agent_scrape, "grpc_server_handled_total",
                    {{"grpc_method", "ValidateJWTSVID"}, {"grpc_code", "OK"}}),
      1)
      << "the wrong audience";
  EXPECT_GE(MetricSum(agent_scrape, "trellis_agent_workload_svids"), 2);
  EXPECT_GE(MetricSum(agent_scrape, "trellis_agent_entries"), 2);
  EXPECT_GT(MetricSum(agent_scrape, "trellis_agent_sync_generation"), 0);
  EXPECT_EQ(MetricSum(agent_scrape, "trellis_agent_banned"), 0);
  // Every credential issued is counted by kind, under the agent's
  // attestation type.
  const nlohmann::json scrape = ScrapeMetrics(trellisd_->metrics_port());
  EXPECT_GE(
      MetricSum(scrape, "trellis_svids_issued_total", {{"kind", "X509_SVID"}}),
      2);
  EXPECT_GE(
      MetricSum(scrape, "trellis_svids_issued_total", {{"kind", "JWT_SVID"}}),
      1);
  EXPECT_EQ(MetricSum(scrape, "trellis_svids_issued_total",
                      {{"kind", "AGENT_X509_SVID"},
                       {"attestation_type", "join_token"}}),
            1);
  // The SPIRE API's own gRPC server is counted too.
  EXPECT_EQ(MetricSum(scrape, "grpc_server_handled_total",
                      {{"grpc_service", "spire.api.server.agent.v1.Agent"},
                       {"grpc_method", "AttestAgent"},
                       {"grpc_type", "bidi_stream"},
                       {"grpc_code", "OK"}}),
            1);

  // An open stream gets the SVID of an entry created afterwards.
  grpc::ClientContext stream_context;
  stream_context.AddMetadata("workload.spiffe.io", "true");
  auto stream = WorkloadClient()->FetchX509SVID(&stream_context, {});
  X509SVIDResponse first;
  ASSERT_TRUE(stream->Read(&first));
  // Every entry created so far is minted within a sync or two.
  while (first.svids_size() < served) ASSERT_TRUE(stream->Read(&first));
  EXPECT_EQ(first.svids_size(), served);
  const absl::Time created = absl::Now();
  CreateEntriesFor(token, "later", 1, absl::StrCat("unix:uid:", getuid()));
  X509SVIDResponse pushed;
  ASSERT_TRUE(stream->Read(&pushed));
  EXPECT_EQ(pushed.svids_size(), served + 1);
  EXPECT_LT(absl::Now() - created, absl::Seconds(6));
  stream_context.TryCancel();
  stream->Finish();

  // Without the security header: InvalidArgument.
  grpc::ClientContext bare;
  auto refused = WorkloadClient()->FetchX509SVID(&bare, {});
  X509SVIDResponse none;
  EXPECT_FALSE(refused->Read(&none));
  EXPECT_EQ(refused->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);

  // A restart resumes from the data directory: the token is spent.
  EXPECT_EQ(agent->Stop(), 0);
  agent = StartAgent(WriteConfig(bundle), "");
  const std::string again = dir_.path() + "/fetched-again";
  EXPECT_TRUE(FetchWithSpireAgent(again));

  // Banned: the agent deletes its SVID and exits with an error.
  grpc::ClientContext ban_context;
  agent_v1::BanAgentRequest ban;
  ban.mutable_id()->set_trust_domain(kTd);
  ban.mutable_id()->set_path("/spire/agent/join_token/" + token);
  google::protobuf::Empty empty;
  ASSERT_TRUE(agents_->BanAgent(&ban_context, ban, &empty).ok());
  EXPECT_EQ(agent->WaitForExit(absl::Seconds(20)), std::optional<int>(1));
  EXPECT_NE(access((dir_.path() + "/agent/agent-svid.json").c_str(), F_OK), 0);
  // trellisd's log names the banned agent its refusal concerns (as the
  // client's certificate claims it: the SPIRE port's TLS does not verify).
  const std::string log = ReadFile(dir_.path() + "/trellisd.log").value_or("");
  EXPECT_TRUE(RE2::PartialMatch(
      log, absl::StrCat(
               " warning grpc: call refused [^\n]*code=7 [^\n]*",
               "claimed_spiffe_id=spiffe://example.org/spire/agent/join_token/",
               token)))
      << log;
}

TEST_F(TrellisAgentTest, InsecureBootstrapAndUnknownWorkloads) {
  const std::string token = CreateToken(*agents_);
  // An entry for another user only: this test's process matches nothing.
  CreateEntriesFor(token, "theirs", 1, "unix:uid:4242");
  std::unique_ptr<ServerProcess> agent = StartAgent(WriteConfig(""), token);
  // The agent got the trust domain's bundle and wrote it.
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (access((dir_.path() + "/agent/bundle.pem").c_str(), F_OK) != 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(ca::CertificatesFromPem(
                ReadFile(dir_.path() + "/agent/bundle.pem").value_or(""))
                .value_or(std::vector<std::string>{}),
            Roots());
  grpc::ClientContext context;
  context.AddMetadata("workload.spiffe.io", "true");
  auto stream = WorkloadClient()->FetchX509SVID(&context, {});
  X509SVIDResponse response;
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext jwt_context;
  jwt_context.AddMetadata("workload.spiffe.io", "true");
  JWTSVIDRequest jwt_request;
  jwt_request.add_audience("db");
  JWTSVIDResponse jwt_response;
  EXPECT_EQ(WorkloadClient()
                ->FetchJWTSVID(&jwt_context, jwt_request, &jwt_response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// A federated trust domain's bundle reaches the workloads whose entries
// federate with it: in FetchX509SVID's federated_bundles and in the bundle
// streams.
TEST_F(TrellisAgentTest, FederatedBundlesReachWorkloads) {
  const std::string ca_pem = dir_.path() + "/other-ca.pem";
  ASSERT_EQ(
      RunProgram("/usr/bin/openssl",
                 {"req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                  dir_.path() + "/other-ca.key", "-subj", "/O=other", "-addext",
                  "subjectAltName=URI:spiffe://other.test", "-out", ca_pem})
          .exit_code,
      0);
  const std::string addr = "--addr=" + trellisd_->operator_address();
  CliResult stored = RunCli({addr, "spire", "bundle", "set",
                             "--id=spiffe://other.test", "--path=" + ca_pem});
  ASSERT_EQ(stored.exit_code, 0) << stored.out << stored.err;
  const std::string token = CreateToken(*agents_);
  CliResult entry = RunCli(
      {addr, "spire", "entry", "create",
       "--parent_id=spiffe://example.org/spire/agent/join_token/" + token,
       "--spiffe_id=spiffe://example.org/federated",
       absl::StrCat("--selector=unix:uid:", getuid()),
       "--federates_with=spiffe://other.test"});
  ASSERT_EQ(entry.exit_code, 0) << entry.out << entry.err;
  std::unique_ptr<ServerProcess> agent = StartAgent(
      WriteConfig(WriteBundle(*bundles_, kTd, dir_.path() + "/bundle.pem")),
      token);
  const std::string other_der =
      ca::CertificatesFromPem(ReadFile(ca_pem).value_or(""))
          .value_or(std::vector<std::string>{""})
          .front();

  grpc::ClientContext context;
  context.AddMetadata("workload.spiffe.io", "true");
  auto stream = WorkloadClient()->FetchX509SVID(&context, {});
  X509SVIDResponse response;
  ASSERT_TRUE(stream->Read(&response));
  context.TryCancel();
  stream->Finish();
  ASSERT_EQ(response.svids_size(), 1);
  EXPECT_EQ(response.federated_bundles().at("spiffe://other.test"), other_der);

  grpc::ClientContext bundles_context;
  bundles_context.AddMetadata("workload.spiffe.io", "true");
  auto bundles = WorkloadClient()->FetchX509Bundles(&bundles_context, {});
  X509BundlesResponse x509_bundles;
  ASSERT_TRUE(bundles->Read(&x509_bundles));
  bundles_context.TryCancel();
  bundles->Finish();
  EXPECT_EQ(x509_bundles.bundles().at("spiffe://other.test"), other_der);
  EXPECT_EQ(x509_bundles.bundles().count("spiffe://example.org"), 1u);
}

// Short lifetimes: the agent renews its own SVID (RenewAgent) and rotates
// the workload's at half-life, pushing the new one on the open stream and
// still serving through the health endpoint's readiness.
TEST_F(TrellisAgentTest, SvidsRotateAtHalfLife) {
  trellisd_ = std::make_unique<TrellisdProcess>(
      dir_.path() + "/short-trellisd",
      std::vector<std::string>{"--default_x509_svid_ttl=30s"});
  auto channel = grpc::CreateChannel(trellisd_->operator_address(),
                                     grpc::InsecureChannelCredentials());
  agents_ = agent_v1::Agent::NewStub(channel);
  entries_ = entry_v1::Entry::NewStub(channel);
  bundles_ = bundle_v1::Bundle::NewStub(channel);
  const std::string token = CreateToken(*agents_);
  CreateEntriesFor(token, "short", 1, absl::StrCat("unix:uid:", getuid()));
  const std::string bundle =
      WriteBundle(*bundles_, kTd, dir_.path() + "/bundle.pem");
  const int health_port = 20000 + getpid() % 20000;
  const std::string config = WriteConfig(bundle);
  ASSERT_TRUE(ReplaceFile(config,
                          ReadFile(config).value_or("") +
                              absl::StrCat("health_checks {\n  "
                                           "listener_enabled = true\n  "
                                           "bind_address = \"127.0.0.1\"\n  "
                                           "bind_port = \"",
                                           health_port, "\"\n}\n"),
                          0600)
                  .ok());
  std::unique_ptr<ServerProcess> agent = StartAgent(config, token);
  auto agent_serial = [&] {
    const nlohmann::json stored = nlohmann::json::parse(
        ReadFile(dir_.path() + "/agent/agent-svid.json").value_or("{}"),
        nullptr, false);
    absl::StatusOr<std::vector<std::string>> chain =
        ca::CertificatesFromPem(stored.value("chain_pem", ""));
    return chain.ok() ? ca::SerialNumber(chain->front()).value_or("") : "";
  };
  const std::string first_agent_serial = agent_serial();
  ASSERT_FALSE(first_agent_serial.empty());

  grpc::ClientContext context;
  context.AddMetadata("workload.spiffe.io", "true");
  auto stream = WorkloadClient()->FetchX509SVID(&context, {});
  X509SVIDResponse first;
  ASSERT_TRUE(stream->Read(&first));
  ASSERT_EQ(first.svids_size(), 1);
  // Certificates are backdated 10 s: half of the 40 s they span is 10 s
  // after issuance; not before (no needless re-minting), nor much later.
  const absl::Time read_first = absl::Now();
  X509SVIDResponse rotated;
  ASSERT_TRUE(stream->Read(&rotated));
  EXPECT_GT(absl::Now() - read_first, absl::Seconds(5));
  EXPECT_LT(absl::Now() - read_first, absl::Seconds(15));
  ASSERT_EQ(rotated.svids_size(), 1);
  const std::string first_leaf =
      ca::CertificatesFromDer(first.svids(0).x509_svid())
          .value_or(std::vector<std::string>{""})
          .front();
  const std::string rotated_leaf =
      ca::CertificatesFromDer(rotated.svids(0).x509_svid())
          .value_or(std::vector<std::string>{""})
          .front();
  EXPECT_NE(ca::SerialNumber(first_leaf).value_or("a"),
            ca::SerialNumber(rotated_leaf).value_or("a"));
  EXPECT_NE(first.svids(0).x509_svid_key(), rotated.svids(0).x509_svid_key());
  context.TryCancel();
  stream->Finish();

  // The agent's own SVID was renewed too, and the agent still works.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (agent_serial() == first_agent_serial && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_NE(agent_serial(), first_agent_serial);
  ASSERT_TRUE(FetchWithSpireAgent(dir_.path() + "/after-renewal"));
  CliResult ready =
      RunProgram("/usr/bin/curl",
                 {"-s", "-o", "/dev/null", "-w", "%{http_code}",
                  absl::StrCat("http://127.0.0.1:", health_port, "/ready")});
  EXPECT_EQ(ready.out, "200") << ready.err;
}

// trust_bundle_url: the agent fetches its bootstrap bundle over HTTPS,
// trusting the system's CAs (here SSL_CERT_FILE), in either format; a
// server it cannot authenticate gives it nothing to start with.
TEST_F(TrellisAgentTest, BootstrapsFromATrustBundleUrl) {
  const std::string token = CreateToken(*agents_);
  CreateEntriesFor(token, "url", 1, absl::StrCat("unix:uid:", getuid()));
  const std::string cert = dir_.path() + "/web.pem";
  const std::string key = dir_.path() + "/web.key";
  CliResult made = RunProgram(
      "/usr/bin/openssl",
      {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj",
       "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  httplib::SSLServer web(cert.c_str(), key.c_str());
  spiffe::BundleDocument document;
  document.x509_authorities = Roots();
  const std::string spiffe_bundle = spiffe::EncodeBundle(document).value();
  web.Get("/bundle.json", [&](const httplib::Request&, httplib::Response& r) {
    r.set_content(spiffe_bundle, "application/json");
  });
  const int port = web.bind_to_any_port("127.0.0.1");
  ASSERT_GT(port, 0);
  std::thread serving([&] { web.listen_after_bind(); });
  const std::string config = WriteConfig("");
  std::string text = ReadFile(config).value_or("");
  absl::StrReplaceAll(
      {{"  insecure_bootstrap = true\n",
        absl::StrCat("  trust_bundle_url = \"https://127.0.0.1:", port,
                     "/bundle.json\"\n  trust_bundle_format "
                     "= \"spiffe\"\n")}},
      &text);
  ASSERT_TRUE(ReplaceFile(config, text, 0600).ok());

  // The web server's certificate is not among the trusted CAs: no start.
  setenv("SSL_CERT_FILE", (dir_.path() + "/bundle-none.pem").c_str(), 1);
  ServerProcess refused(
      {kTrellisAgent, "run", "-config", config, "--join_token=" + token}, "");
  EXPECT_EQ(refused.WaitForExit(absl::Seconds(20)), std::optional<int>(1));

  setenv("SSL_CERT_FILE", cert.c_str(), 1);
  std::unique_ptr<ServerProcess> agent = StartAgent(config, token);
  unsetenv("SSL_CERT_FILE");
  EXPECT_TRUE(FetchWithSpireAgent(dir_.path() + "/fetched"));
  web.stop();
  serving.join();
}

// The operator's forced rotation (LocalAuthority, through the trellis CLI):
// once the old CA and JWT key are tainted, the agent renews its own SVID,
// pushes workloads SVIDs from the new CA and stops serving cached
// JWT-SVIDs signed with the tainted key.
TEST_F(TrellisAgentTest, OperatorTaintsTheAuthority) {
  const std::string token = CreateToken(*agents_);
  CreateEntriesFor(token, "taint", 1, absl::StrCat("unix:uid:", getuid()));
  const std::string bundle =
      WriteBundle(*bundles_, kTd, dir_.path() + "/bundle.pem");
  std::unique_ptr<ServerProcess> agent = StartAgent(WriteConfig(bundle), token);
  grpc::ClientContext context;
  context.AddMetadata("workload.spiffe.io", "true");
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
  auto stream = WorkloadClient()->FetchX509SVID(&context, {});
  X509SVIDResponse first;
  ASSERT_TRUE(stream->Read(&first));
  ASSERT_EQ(first.svids_size(), 1);
  auto jwt_key_id = [&] {
    grpc::ClientContext jwt_context;
    jwt_context.AddMetadata("workload.spiffe.io", "true");
    JWTSVIDRequest request;
    request.add_audience("db");
    JWTSVIDResponse response;
    if (!WorkloadClient()
             ->FetchJWTSVID(&jwt_context, request, &response)
             .ok() ||
        response.svids().empty()) {
      return std::string();
    }
    const std::string& svid = response.svids(0).svid();
    std::string header;
    absl::WebSafeBase64Unescape(svid.substr(0, svid.find('.')), &header);
    return nlohmann::json::parse(header, nullptr, false).value("kid", "");
  };
  const std::string first_kid = jwt_key_id();
  ASSERT_FALSE(first_kid.empty());

  const std::string addr = "--addr=" + trellisd_->operator_address();
  auto authority = [&](const std::string& kind, const std::string& verb,
                       const std::string& id) {
    std::vector<std::string> args = {addr, "spire", "localauthority", kind,
                                     verb};
    if (!id.empty()) args.push_back("--authority_id=" + id);
    return RunCli(args);
  };
  auto id_of = [](const std::string& role, const std::string& out) {
    std::string id;
    RE2::PartialMatch(out, role + " authority:\\n  Authority ID: (\\S+)", &id);
    return id;
  };
  CliResult shown = authority("x509", "show", "");
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const std::string old_ca = id_of("Active", shown.out);
  ASSERT_FALSE(old_ca.empty()) << shown.out;
  // The active authority cannot be tainted.
  CliResult refused = authority("x509", "taint", old_ca);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("unable to taint current local authority"),
            std::string::npos)
      << refused.err;

  CliResult prepared = authority("x509", "prepare", "");
  ASSERT_EQ(prepared.exit_code, 0) << prepared.err;
  const std::string new_ca = id_of("Prepared", prepared.out);
  ASSERT_EQ(authority("x509", "activate", new_ca).exit_code, 0);
  shown = authority("x509", "show", "");
  EXPECT_EQ(id_of("Active", shown.out), new_ca);
  EXPECT_EQ(id_of("Old", shown.out), old_ca);
  CliResult jwt_shown = authority("jwt", "show", "");
  EXPECT_EQ(id_of("Old", jwt_shown.out), first_kid) << jwt_shown.out;
  ASSERT_EQ(authority("x509", "taint", old_ca).exit_code, 0);
  ASSERT_EQ(authority("jwt", "taint", first_kid).exit_code, 0);

  // Roots the agent must now rest on: the untainted ones.
  std::vector<std::string> untainted;
  {
    grpc::ClientContext get;
    spire::api::types::Bundle current;
    ASSERT_TRUE(bundles_->GetBundle(&get, {}, &current).ok());
    for (const auto& a : current.x509_authorities()) {
      if (!a.tainted()) untainted.push_back(a.asn1());
    }
  }
  ASSERT_EQ(untainted.size(), 1u);
  auto on_new_ca = [&](const X509SVIDResponse& response) {
    if (response.svids().empty()) return false;
    std::string pem;
    for (const std::string& der :
         ca::CertificatesFromDer(response.svids(0).x509_svid())
             .value_or(std::vector<std::string>{})) {
      pem += ca::DerToPem(der, "CERTIFICATE");
    }
    return ca::VerifySvidChain(pem, untainted).ok();
  };
  EXPECT_FALSE(on_new_ca(first));
  X509SVIDResponse pushed;
  const absl::Time tainted_at = absl::Now();
  do {
    ASSERT_TRUE(stream->Read(&pushed)) << "no SVID from the new CA";
  } while (!on_new_ca(pushed));
  EXPECT_LT(absl::Now() - tainted_at, absl::Seconds(10));
  context.TryCancel();
  stream->Finish();

  // The agent's own SVID moved too, and cached JWT-SVIDs were dropped.
  const nlohmann::json stored = nlohmann::json::parse(
      ReadFile(dir_.path() + "/agent/agent-svid.json").value_or("{}"), nullptr,
      false);
  EXPECT_TRUE(
      ca::VerifySvidChain(stored.value("chain_pem", ""), untainted).ok());
  const std::string new_kid = jwt_key_id();
  EXPECT_FALSE(new_kid.empty());
  EXPECT_NE(new_kid, first_kid);

  // Revoked, the old CA leaves the bundle.
  ASSERT_EQ(authority("x509", "revoke", old_ca).exit_code, 0);
  EXPECT_EQ(Roots(), untainted);
}

// With the server gone the agent keeps serving what it holds, across its
// own restart too (the SVID cache in its data directory); when the server
// is back, syncing resumes.
TEST_F(TrellisAgentTest, ServerUnreachableThenBack) {
  const std::string token = CreateToken(*agents_);
  CreateEntriesFor(token, "kept", 1, absl::StrCat("unix:uid:", getuid()));
  const std::string bundle =
      WriteBundle(*bundles_, kTd, dir_.path() + "/bundle.pem");
  const std::string config = WriteConfig(bundle);
  std::unique_ptr<ServerProcess> agent = StartAgent(config, token);
  ASSERT_TRUE(FetchWithSpireAgent(dir_.path() + "/before"));

  const int spire_port = trellisd_->spire_port();
  EXPECT_EQ(trellisd_->Stop(), 0);
  ASSERT_TRUE(FetchWithSpireAgent(dir_.path() + "/server-down"));
  EXPECT_EQ(agent->Stop(), 0);
  agent = StartAgent(config, "");
  ASSERT_TRUE(FetchWithSpireAgent(dir_.path() + "/agent-restarted"));
  const std::string cached =
      ReadFile(dir_.path() + "/agent-restarted/svid.0.pem").value_or("");
  EXPECT_EQ(cached, ReadFile(dir_.path() + "/before/svid.0.pem").value_or(""));

  // The server is back on its port: a new entry reaches an open stream.
  trellisd_ = std::make_unique<TrellisdProcess>(
      dir_.path() + "/trellisd", std::vector<std::string>{absl::StrCat(
                                     "--spire_addr=127.0.0.1:", spire_port)});
  entries_ = entry_v1::Entry::NewStub(grpc::CreateChannel(
      trellisd_->operator_address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("workload.spiffe.io", "true");
  auto stream = WorkloadClient()->FetchX509SVID(&context, {});
  X509SVIDResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.svids_size(), 1);
  CreateEntriesFor(token, "after", 1, absl::StrCat("unix:uid:", getuid()));
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_EQ(response.svids_size(), 2);
  context.TryCancel();
  stream->Finish();
}

// The `tpm` node attestor (spire-tpm-plugin's protocol) from trellis-agent
// on a software TPM: the agent is named by its EK, is re-attestable, and
// serves the entries under that name.
TEST_F(TrellisAgentTest, TpmNodeAttestation) {
  Swtpm tpm;
  const std::string hashes = dir_.path() + "/ek-hashes";
  ASSERT_EQ(mkdir(hashes.c_str(), 0700), 0);
  std::string ek_hash;
  ASSERT_EQ(
      tpm.RunTools(
          absl::StrCat(
              "tpm2_createek -c ", dir_.path(), "/ek.ctx -G rsa -f pem -u ",
              dir_.path(), "/ek.pem >/dev/null && openssl pkey -pubin -in ",
              dir_.path(), "/ek.pem -outform DER | sha256sum | cut -c1-64"),
          &ek_hash),
      0);
  ek_hash = std::string(absl::StripAsciiWhitespace(ek_hash));
  ASSERT_TRUE(ReplaceFile(hashes + "/" + ek_hash, "", 0644).ok());
  trellisd_ = std::make_unique<TrellisdProcess>(
      dir_.path() + "/tpm-trellisd",
      std::vector<std::string>{"--tpm_attestor_ek_hash_dir=" + hashes,
                               "--attestations_per_second=0"});
  auto channel = grpc::CreateChannel(trellisd_->operator_address(),
                                     grpc::InsecureChannelCredentials());
  entries_ = entry_v1::Entry::NewStub(channel);
  bundles_ = bundle_v1::Bundle::NewStub(channel);
  testing::CreateEntries(*entries_, kTd, "/spire/agent/tpm/" + ek_hash, "tpm",
                         1, absl::StrCat("unix:uid:", getuid()));
  const std::string bundle =
      WriteBundle(*bundles_, kTd, dir_.path() + "/bundle.pem");
  const std::string config_path = WriteConfig(
      bundle, absl::StrCat("NodeAttestor \"tpm\" { plugin_data { tcti = \"",
                           tpm.tcti(), "\" } }"));
  std::unique_ptr<ServerProcess> agent = StartAgent(config_path, "");
  const std::string out = dir_.path() + "/tpm-fetched";
  ASSERT_TRUE(FetchWithSpireAgent(out));
  absl::StatusOr<ca::VerifiedSvid> verified =
      ca::VerifySvidChain(ReadFile(out + "/svid.0.pem").value_or(""), Roots());
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->spiffe_id, "spiffe://example.org/workload/tpm/0");
  const nlohmann::json stored = nlohmann::json::parse(
      ReadFile(dir_.path() + "/agent/agent-svid.json").value_or("{}"));
  EXPECT_EQ(stored.value("reattestable", false), true);
  const std::string agent_pem = stored.value("chain_pem", "");
  absl::StatusOr<ca::VerifiedSvid> agent_svid =
      ca::VerifySvidChain(agent_pem, Roots());
  ASSERT_TRUE(agent_svid.ok()) << agent_svid.status();
  EXPECT_EQ(agent_svid->spiffe_id,
            "spiffe://example.org/spire/agent/tpm/" + ek_hash);
}

// The Unified-Identity path on a software TPM: the agent attests its node
// with sovereign evidence, and a workload without TPM access gets an SVID
// whose claims extension and attested_claims (30) come from evidence the
// agent gathered; both SVIDs are in the issuance log, linked to passing
// verdicts; evidence that fails yields no SVID.
TEST_F(TrellisAgentTest, SovereignNodeAndWorkloadSvids) {
  Swtpm tpm;
  trellisd_ = std::make_unique<TrellisdProcess>(
      dir_.path() + "/sovereign-trellisd",
      std::vector<std::string>{"--feature_flags=Unified-Identity",
                               "--attestations_per_second=0"});
  auto channel = grpc::CreateChannel(trellisd_->operator_address(),
                                     grpc::InsecureChannelCredentials());
  entries_ = entry_v1::Entry::NewStub(channel);
  bundles_ = bundle_v1::Bundle::NewStub(channel);
  // The host registers its EK and AK with trellisd's registrar.
  const std::string work_dir = dir_.path() + "/tpm";
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"create-ek-ak"},
        {"register",
         absl::StrCat("--verifier=https://127.0.0.1:",
                      trellisd_->verifier_port()),
         "--verifier_ca=" + trellisd_->verifier_ca_file(),
         "--host_id=host-a"}}) {
    std::vector<std::string> full = {"--tcti=" + tpm.tcti(),
                                     "--work_dir=" + work_dir};
    full.insert(full.end(), args.begin(), args.end());
    CliResult r = RunProgram("cmd/trellis-tpm/trellis-tpm", full);
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  }
  testing::CreateEntries(*entries_, kTd, "/spire/agent/unified_identity/host-a",
                         "sovereign", 1, absl::StrCat("unix:uid:", getuid()));
  const std::string bundle =
      WriteBundle(*bundles_, kTd, dir_.path() + "/bundle.pem");
  const std::string config_path = WriteConfig(
      bundle,
      absl::StrCat("NodeAttestor \"unified_identity\" {\n    plugin_data {\n",
                   "      tcti = \"", tpm.tcti(), "\"\n      work_dir = \"",
                   work_dir, "\"\n      host_id = \"host-a\"\n    }\n  }"),
      "    feature_flags = [\"Unified-Identity\"]\n");
  std::unique_ptr<ServerProcess> agent = StartAgent(config_path, "");

  // A plain request: the cached SVID, no claims.
  const std::string out = dir_.path() + "/plain";
  ASSERT_TRUE(FetchWithSpireAgent(out));
  const std::string plain_pem = ReadFile(out + "/svid.0.pem").value_or("");
  const std::string plain_der = ca::CertificatesFromPem(plain_pem)
                                    .value_or(std::vector<std::string>{""})
                                    .front();
  EXPECT_FALSE(ca::ExtensionValue(plain_der, ca::kSovereignClaimsOid).ok());

  // A sovereign request without evidence: the agent gathers it.
  grpc::ClientContext context;
  context.AddMetadata("workload.spiffe.io", "true");
  X509SVIDRequest request;
  request.mutable_sovereign_attestation()->set_workload_code_hash(
      "sha256:0000");
  auto stream = WorkloadClient()->FetchX509SVID(&context, request);
  X509SVIDResponse response;
  ASSERT_TRUE(stream->Read(&response));
  context.TryCancel();
  stream->Finish();
  ASSERT_EQ(response.svids_size(), 1);
  ASSERT_EQ(response.attested_claims_size(), 1);
  EXPECT_EQ(response.attested_claims(0).host_integrity_status(),
            spire::api::types::AttestedClaims::PASSED_ALL_CHECKS);
  const std::vector<std::string> chain =
      ca::CertificatesFromDer(response.svids(0).x509_svid())
          .value_or(std::vector<std::string>{});
  ASSERT_FALSE(chain.empty());
  absl::StatusOr<std::string> claims =
      ca::ExtensionValue(chain.front(), ca::kSovereignClaimsOid);
  ASSERT_TRUE(claims.ok()) << claims.status();
  EXPECT_NE(claims->find("spiffe://example.org/workload/sovereign/0"),
            std::string::npos);

  // Both SVIDs rest on passing verdicts, proven in the logs.
  const std::string addr = "--addr=" + trellisd_->operator_address();
  std::string agent_chain;
  {
    const nlohmann::json stored = nlohmann::json::parse(
        ReadFile(dir_.path() + "/agent/agent-svid.json").value_or("{}"));
    agent_chain = stored.value("chain_pem", "");
  }
  std::string workload_chain;
  for (const std::string& der : chain) {
    workload_chain += ca::DerToPem(der, "CERTIFICATE");
  }
  for (const std::string& pem : {agent_chain, workload_chain}) {
    const std::string path = dir_.path() + "/check.pem";
    ASSERT_TRUE(ReplaceFile(path, pem, 0644).ok());
    const nlohmann::json verified =
        VerifySvidWhenLogged(trellisd_->operator_address(), path, bundle);
    ASSERT_TRUE(verified.is_object());
    EXPECT_EQ(verified["verdict"]["verified"], true);
    EXPECT_EQ(verified["verdict"]["host_id"], "host-a") << verified;
  }

  // The user's generate-sovereign-svid and dump-svid, as trellis commands.
  const std::string files = dir_.path() + "/generated";
  ASSERT_EQ(mkdir(files.c_str(), 0700), 0);
  CliResult generated = RunCli(
      {"svid", "generate-sovereign", "--socket=" + socket_, "--out=" + files,
       "--spiffe_id=spiffe://example.org/workload/sovereign/0"});
  ASSERT_EQ(generated.exit_code, 0) << generated.out << generated.err;
  struct stat key_stat;
  ASSERT_EQ(stat((files + "/svid.key").c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600u);
  CliResult verify_files = RunProgram(
      "/usr/bin/openssl",
      {"verify", "-CAfile", files + "/bundle.crt", files + "/svid.crt"});
  EXPECT_EQ(verify_files.exit_code, 0) << verify_files.out << verify_files.err;
  CliResult dumped =
      RunCli({"svid", "dump", files + "/svid.crt",
              "--attested=" + files + "/svid_attested_claims.json"});
  ASSERT_EQ(dumped.exit_code, 0) << dumped.err;
  EXPECT_NE(dumped.out.find("Unified-Identity additions"), std::string::npos);
  EXPECT_NE(dumped.out.find("PASSED_ALL_CHECKS"), std::string::npos)
      << dumped.out;

  // Real TPM evidence of the workload's own, quoting a nonce the server
  // never issued: the verdict fails and is logged; no SVID.
  auto tpm_out = [&](std::vector<std::string> args) {
    args.insert(args.begin(),
                {"--tcti=" + tpm.tcti(), "--work_dir=" + work_dir});
    CliResult r = RunProgram("cmd/trellis-tpm/trellis-tpm", args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return std::string(absl::StripTrailingAsciiWhitespace(r.out));
  };
  const std::string stale_nonce(64, 'c');
  const nlohmann::json app_key =
      nlohmann::json::parse(tpm_out({"generate-app-key"}), nullptr, false);
  grpc::ClientContext failing_context;
  failing_context.AddMetadata("workload.spiffe.io", "true");
  X509SVIDRequest failing;
  SovereignAttestation* stale = failing.mutable_sovereign_attestation();
  stale->set_tpm_signed_attestation(tpm_out(
      {"generate-quote", "--nonce=" + stale_nonce, "--pcrs=sha256:0,1,2,3"}));
  stale->set_app_key_public(app_key.value("app_key_public", ""));
  stale->set_app_key_certificate(
      tpm_out({"certify-app-key", "--nonce=" + stale_nonce}));
  stale->set_challenge_nonce(stale_nonce);
  stale->set_keylime_agent_uuid("host-a");
  auto failed = WorkloadClient()->FetchX509SVID(&failing_context, failing);
  X509SVIDResponse nothing;
  EXPECT_FALSE(failed->Read(&nothing));
  const grpc::Status verdict = failed->Finish();
  EXPECT_EQ(verdict.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << verdict.error_message();
  std::string audit_id;
  ASSERT_TRUE(RE2::PartialMatch(verdict.error_message(),
                                "audit id ([0-9a-f]{64})", &audit_id))
      << verdict.error_message();
  // Logged at once, integrated by the next sequencer pass.
  CliResult shown;
  const absl::Time integrated = absl::Now() + absl::Seconds(30);
  while ((shown = RunCli({addr, "audit", "show", audit_id})).exit_code != 0 &&
         absl::Now() < integrated) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(shown.exit_code, 0) << shown.out << shown.err;
  // A failed verdict (proto JSON leaves verified: false out), and why.
  EXPECT_EQ(shown.out.find("\"verified\": true"), std::string::npos);
  EXPECT_NE(shown.out.find("nonce was not issued by this verifier"),
            std::string::npos)
      << shown.out;

  // Evidence of the workload's own that fails: no SVID.
  grpc::ClientContext bad_context;
  bad_context.AddMetadata("workload.spiffe.io", "true");
  X509SVIDRequest bad;
  bad.mutable_sovereign_attestation()->set_tpm_signed_attestation(
      "r" + std::string(64, 'A') + ":AAAA:AAAA");
  bad.mutable_sovereign_attestation()->set_challenge_nonce(
      std::string(64, 'a'));
  bad.mutable_sovereign_attestation()->set_app_key_public("not a key");
  bad.mutable_sovereign_attestation()->set_keylime_agent_uuid("host-a");
  auto refused = WorkloadClient()->FetchX509SVID(&bad_context, bad);
  X509SVIDResponse none;
  EXPECT_FALSE(refused->Read(&none));
  const grpc::Status status = refused->Finish();
  EXPECT_TRUE(status.error_code() == grpc::StatusCode::PERMISSION_DENIED ||
              status.error_code() == grpc::StatusCode::INVALID_ARGUMENT)
      << status.error_code() << " " << status.error_message();
}

}  // namespace
}  // namespace trellis::testing
