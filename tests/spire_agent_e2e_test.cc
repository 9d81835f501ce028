// An unmodified spire-agent (v1.13.3, built from the Go module proxy by
// scripts/build_peers.sh) attests to trellisd with a join token, syncs its
// entries (more than a page: the paged protocol) and serves X509-SVIDs
// through its own Workload API; every SVID is checked with openssl against
// the bundle. A banned agent exits.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ca/svid_verify.h"
#include "ca/testing/csr.h"
#include "ca/testing/spire_channel.h"
#include "ca/x509.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "re2/re2.h"
#include "spire/api/node/node.grpc.pb.h"
#include "spire/api/server/agent/v1/agent.grpc.pb.h"
#include "spire/api/server/bundle/v1/bundle.grpc.pb.h"
#include "spire/api/server/entry/v1/entry.grpc.pb.h"
#include "spire/api/server/svid/v1/svid.grpc.pb.h"
#include "tests/spire_operator.h"
#include "tests/trellisd_process.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

namespace agent_v1 = spire::api::server::agent::v1;
namespace bundle_v1 = spire::api::server::bundle::v1;
namespace entry_v1 = spire::api::server::entry::v1;
namespace svid_v1 = spire::api::server::svid::v1;

constexpr char kTd[] = "example.org";

std::string SpireAgent() { return PeerBinary("spire-agent"); }

// The last agent of the legacy node API, built beside it.
std::string LegacyAgent() { return absl::StrCat(SpireAgent(), "-v0.10.0"); }

std::string ReadAll(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  return bytes.ok() ? *bytes : "";
}

class SpireAgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(access(SpireAgent().c_str(), X_OK), 0)
        << SpireAgent() << " is missing: run scripts/build_peers.sh";
    StartTrellisd();
  }
  void StartTrellisd(std::vector<std::string> flags = {},
                     const std::string& name = "trellisd") {
    trellisd_ = std::make_unique<TrellisdProcess>(dir_.path() + "/" + name,
                                                  std::move(flags));
    auto channel = grpc::CreateChannel(trellisd_->operator_address(),
                                       grpc::InsecureChannelCredentials());
    agents_ = agent_v1::Agent::NewStub(channel);
    entries_ = entry_v1::Entry::NewStub(channel);
    bundles_ = bundle_v1::Bundle::NewStub(channel);
  }

  std::string CreateToken() { return testing::CreateToken(*agents_); }

  // Entries for the workload (this test's uid) under the token's agent.
  void CreateEntries(const std::string& token, int count) {
    testing::CreateEntries(*entries_, kTd, "/spire/agent/join_token/" + token,
                           token.substr(0, 8), count,
                           absl::StrCat("unix:uid:", getuid()));
  }

  // The bundle as PEM, the agent's bootstrap trust.
  std::string WriteBundle() {
    return testing::WriteBundle(*bundles_, kTd, dir_.path() + "/bundle.pem");
  }

  // Starts spire-agent with `token`; `bundle` empty: insecure bootstrap.
  std::unique_ptr<ServerProcess> StartAgent(
      const std::string& name, const std::string& token,
      const std::string& bundle, const std::string& binary = SpireAgent()) {
    const std::string data = dir_.path() + "/" + name;
    mkdir(data.c_str(), 0700);
    sockets_.push_back(
        absl::StrCat("/tmp/trellis-spire-", getpid(), "-", name, ".sock"));
    const std::string config = absl::StrCat(
        "agent {\n  trust_domain = \"", kTd, "\"\n",
        "  server_address = \"127.0.0.1\"\n  server_port = \"",
        trellisd_->spire_port(), "\"\n  data_dir = \"", data, "\"\n",
        "  socket_path = \"", sockets_.back(), "\"\n  log_level = \"INFO\"\n",
        bundle.empty()
            ? "  insecure_bootstrap = true\n"
            : absl::StrCat("  trust_bundle_path = \"", bundle, "\"\n"),
        // Legacy agents sync every 5 s unless told otherwise.
        binary == SpireAgent() ? ""
                               : "  experimental { sync_interval = \"1s\" }\n",
        "}\nplugins {\n  NodeAttestor \"join_token\" { plugin_data {} }\n",
        "  KeyManager \"disk\" { plugin_data { directory = \"", data,
        "\" } }\n  WorkloadAttestor \"unix\" { plugin_data {} }\n}\n");
    const std::string config_path = data + "/agent.conf";
    EXPECT_TRUE(ReplaceFile(config_path, config, 0600).ok());
    return std::make_unique<ServerProcess>(
        std::vector<std::string>{binary, "run", "-config", config_path,
                                 "-joinToken", token},
        "");
  }

  // Fetches X509-SVIDs through the agent's Workload API into `out` until
  // `want` arrive (the agent mints them after its first sync).
  int FetchSvids(const std::string& socket, const std::string& out, int want,
                 const std::string& binary = SpireAgent()) {
    mkdir(out.c_str(), 0700);
    const absl::Time deadline = absl::Now() + absl::Seconds(90);
    int got = 0;
    while (absl::Now() < deadline) {
      CliResult fetch =
          RunProgram(binary, {"api", "fetch", "x509", "-socketPath", socket,
                              "-write", out, "-timeout", "10s"});
      got = 0;
      while (access(absl::StrCat(out, "/svid.", got, ".pem").c_str(), F_OK) ==
             0) {
        ++got;
      }
      if (fetch.exit_code == 0 && got >= want) return got;
      absl::SleepFor(absl::Milliseconds(500));
    }
    return got;
  }

  // openssl verifies the SVID against the bundle the agent wrote, and the
  // SVID is an X509-SVID for `want_prefix`.
  void CheckSvid(const std::string& out, int index,
                 const std::string& want_prefix) {
    const std::string svid = absl::StrCat(out, "/svid.", index, ".pem");
    const std::string bundle = absl::StrCat(out, "/bundle.", index, ".pem");
    CliResult verify =
        RunProgram("/usr/bin/openssl", {"verify", "-x509_strict", "-purpose",
                                        "sslclient", "-CAfile", bundle, svid});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
    grpc::ClientContext context;
    spire::api::types::Bundle trusted;
    ASSERT_TRUE(bundles_->GetBundle(&context, {}, &trusted).ok());
    std::vector<std::string> roots;
    for (const auto& a : trusted.x509_authorities()) roots.push_back(a.asn1());
    absl::StatusOr<ca::VerifiedSvid> verified =
        ca::VerifySvidChain(ReadAll(svid), roots);
    ASSERT_TRUE(verified.ok()) << verified.status();
    EXPECT_TRUE(absl::StartsWith(verified->spiffe_id, want_prefix))
        << verified->spiffe_id;
  }

  // A JWT-SVID for audience "db" through the newest agent's Workload API
  // (empty, with a failure recorded, if none comes).
  std::string FetchJwt(const std::string& binary) {
    CliResult jwt = RunProgram(binary, {"api", "fetch", "jwt", "-audience",
                                        "db", "-socketPath", sockets_.back()});
    EXPECT_EQ(jwt.exit_code, 0) << jwt.err;
    std::string token;
    EXPECT_TRUE(RE2::PartialMatch(jwt.out, "(eyJ[A-Za-z0-9_.-]+)", &token))
        << jwt.out;
    return token;
  }

  // The agent's own validation of `token` for `audience`, against the JWT
  // bundle it got from trellisd.
  CliResult ValidateJwt(const std::string& binary, const std::string& token,
                        const std::string& audience) {
    return RunProgram(binary, {"api", "validate", "jwt", "-audience", audience,
                               "-svid", token, "-socketPath", sockets_.back()});
  }

  void TearDown() override {
    for (const std::string& socket : sockets_) unlink(socket.c_str());
  }

  TempDir dir_;
  std::unique_ptr<TrellisdProcess> trellisd_;
  std::unique_ptr<agent_v1::Agent::Stub> agents_;
  std::unique_ptr<entry_v1::Entry::Stub> entries_;
  std::unique_ptr<bundle_v1::Bundle::Stub> bundles_;
  std::vector<std::string> sockets_;
};

TEST_F(SpireAgentTest, JoinTokenAgentServesSvidsForManyEntries) {
  const std::string token = CreateToken();
  constexpr int kEntries = 600;  // More than a sync page (500).
  CreateEntries(token, kEntries);
  auto agent = StartAgent("agent1", token, WriteBundle());
  const std::string out = dir_.path() + "/fetched";
  EXPECT_EQ(FetchSvids(sockets_.back(), out, kEntries), kEntries);
  const std::string prefix =
      absl::StrCat("spiffe://", kTd, "/workload/", token.substr(0, 8), "/");
  CheckSvid(out, 0, prefix);
  CheckSvid(out, kEntries - 1, prefix);

  // The agent is on record, attested by join token.
  grpc::ClientContext context;
  agent_v1::ListAgentsResponse listed;
  ASSERT_TRUE(agents_->ListAgents(&context, {}, &listed).ok());
  ASSERT_EQ(listed.agents_size(), 1);
  EXPECT_EQ(listed.agents(0).id().path(), "/spire/agent/join_token/" + token);
  EXPECT_EQ(listed.agents(0).attestation_type(), "join_token");

  // Both sides restart (trellisd on a new free port): the agent resumes
  // with its stored SVID, since its token is used up, and nothing is lost.
  agent->Stop();
  EXPECT_EQ(trellisd_->Stop(), 0);
  StartTrellisd();
  auto resumed = StartAgent("agent1", token, WriteBundle());
  const std::string again = dir_.path() + "/fetched-again";
  EXPECT_EQ(FetchSvids(sockets_.back(), again, kEntries), kEntries);
  CheckSvid(again, 1, prefix);
}

TEST_F(SpireAgentTest, InsecureBootstrapAndBanMakesTheAgentExit) {
  const std::string token = CreateToken();
  CreateEntries(token, 1);
  auto agent = StartAgent("agent2", token, "");
  const std::string out = dir_.path() + "/fetched";
  ASSERT_EQ(FetchSvids(sockets_.back(), out, 1), 1);
  CheckSvid(out, 0, absl::StrCat("spiffe://", kTd, "/workload/"));

  // A JWT-SVID through the agent's Workload API; the agent validates it
  // against the JWT bundle it got from trellisd.
  const std::string jwt_svid = FetchJwt(SpireAgent());
  ASSERT_FALSE(jwt_svid.empty());
  CliResult valid = ValidateJwt(SpireAgent(), jwt_svid, "db");
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;
  EXPECT_NE(valid.out.find("spiffe://example.org/workload/"), std::string::npos)
      << valid.out;
  EXPECT_NE(ValidateJwt(SpireAgent(), jwt_svid, "other").exit_code, 0);

  grpc::ClientContext context;
  agent_v1::BanAgentRequest ban;
  ban.mutable_id()->set_trust_domain(kTd);
  ban.mutable_id()->set_path("/spire/agent/join_token/" + token);
  google::protobuf::Empty empty;
  ASSERT_TRUE(agents_->BanAgent(&context, ban, &empty).ok());
  // Its next sync is refused with AGENT_BANNED: the agent removes its SVID
  // and exits.
  EXPECT_TRUE(agent->WaitForExit(absl::Seconds(60)).has_value());
}

// The agent's own SVID: 20 s, so the agent renews it (RenewAgent: a
// join-token agent cannot re-attest) at about half-life; trellisd promotes
// the new serial when the agent first presents it.
TEST_F(SpireAgentTest, AgentSvidRotatesThroughRenewAgent) {
  EXPECT_EQ(trellisd_->Stop(), 0);
  StartTrellisd({"--default_x509_svid_ttl=20s"});
  const std::string token = CreateToken();
  CreateEntries(token, 1);
  auto agent = StartAgent("agent3", token, WriteBundle());
  ASSERT_EQ(FetchSvids(sockets_.back(), dir_.path() + "/fetched", 1), 1);
  auto serial = [&] {
    grpc::ClientContext context;
    agent_v1::ListAgentsResponse listed;
    EXPECT_TRUE(agents_->ListAgents(&context, {}, &listed).ok());
    return listed.agents_size() == 1 ? listed.agents(0).x509svid_serial_number()
                                     : std::string();
  };
  const std::string first = serial();
  ASSERT_FALSE(first.empty());
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (serial() == first && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_NE(serial(), first);
  // The workload keeps getting valid SVIDs after the agent's rotation, past
  // the first agent SVID's end.
  absl::SleepFor(absl::Seconds(1));
  const std::string later = dir_.path() + "/fetched-later";
  ASSERT_EQ(FetchSvids(sockets_.back(), later, 1), 1);
  CheckSvid(later, 0, absl::StrCat("spiffe://", kTd, "/workload/"));
}

// An unmodified spire-agent moves off a CA the operator tainted (through
// the LocalAuthority API): its own SVID and the workload's come from the new
// CA within a few syncs.
TEST_F(SpireAgentTest, SpireAgentMovesOffATaintedAuthority) {
  const std::string token = CreateToken();
  CreateEntries(token, 1);
  auto agent = StartAgent("agent-taint", token, WriteBundle());
  ASSERT_EQ(FetchSvids(sockets_.back(), dir_.path() + "/before", 1), 1);
  const std::string addr = "--addr=" + trellisd_->operator_address();
  CliResult prepared =
      RunCli({addr, "spire", "localauthority", "x509", "prepare"});
  std::string new_ca;
  ASSERT_TRUE(RE2::PartialMatch(prepared.out, "Authority ID: (\\S+)", &new_ca))
      << prepared.out << prepared.err;
  ASSERT_EQ(RunCli({addr, "spire", "localauthority", "x509", "activate",
                    "--authority_id=" + new_ca})
                .exit_code,
            0);
  CliResult shown = RunCli({addr, "spire", "localauthority", "x509", "show"});
  std::string old_ca;
  ASSERT_TRUE(RE2::PartialMatch(
      shown.out, "Old authority:\\n  Authority ID: (\\S+)", &old_ca))
      << shown.out;
  ASSERT_EQ(RunCli({addr, "spire", "localauthority", "x509", "taint",
                    "--authority_id=" + old_ca})
                .exit_code,
            0);
  std::vector<std::string> untainted;
  {
    grpc::ClientContext context;
    spire::api::types::Bundle bundle;
    ASSERT_TRUE(bundles_->GetBundle(&context, {}, &bundle).ok());
    for (const auto& a : bundle.x509_authorities()) {
      if (!a.tainted()) untainted.push_back(a.asn1());
    }
  }
  ASSERT_EQ(untainted.size(), 1u);
  auto agent_serial = [&] {
    grpc::ClientContext context;
    agent_v1::ListAgentsResponse listed;
    EXPECT_TRUE(agents_->ListAgents(&context, {}, &listed).ok());
    return listed.agents_size() == 1 ? listed.agents(0).x509svid_serial_number()
                                     : std::string();
  };
  const std::string tainted_serial = agent_serial();
  const std::string out = dir_.path() + "/after";
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  bool moved = false;
  while (!moved && absl::Now() < deadline) {
    ASSERT_EQ(FetchSvids(sockets_.back(), out, 1), 1);
    moved = ca::VerifySvidChain(ReadAll(out + "/svid.0.pem"), untainted).ok();
    if (!moved) absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_TRUE(moved) << "the workload SVID still rests on the tainted CA";
  while (agent_serial() == tainted_serial && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(500));
  }
  EXPECT_NE(agent_serial(), tainted_serial);
}

// A SPIRE v0.10 agent speaks the legacy node API (spire.api.node.Node) on
// the same port: attestation, entry sync and SVIDs through FetchX509SVID,
// JWT-SVIDs through FetchJWTSVID.
TEST_F(SpireAgentTest, LegacyAgentUsesTheNodeApi) {
  ASSERT_EQ(access(LegacyAgent().c_str(), X_OK), 0)
      << LegacyAgent() << " is missing: run scripts/build_peers.sh";
  const std::string token = CreateToken();
  CreateEntries(token, 2);
  auto agent = StartAgent("legacy", token, WriteBundle(), LegacyAgent());
  const std::string out = dir_.path() + "/legacy-fetched";
  ASSERT_EQ(FetchSvids(sockets_.back(), out, 2, LegacyAgent()), 2);
  const std::string prefix =
      absl::StrCat("spiffe://", kTd, "/workload/", token.substr(0, 8), "/");
  CheckSvid(out, 0, prefix);
  CheckSvid(out, 1, prefix);
  const std::string jwt_svid = FetchJwt(LegacyAgent());
  ASSERT_FALSE(jwt_svid.empty());
  CliResult valid = ValidateJwt(LegacyAgent(), jwt_svid, "db");
  EXPECT_EQ(valid.exit_code, 0) << valid.out << valid.err;

  grpc::ClientContext context;
  agent_v1::ListAgentsResponse listed;
  ASSERT_TRUE(agents_->ListAgents(&context, {}, &listed).ok());
  ASSERT_EQ(listed.agents_size(), 1);
  EXPECT_EQ(listed.agents(0).id().path(), "/spire/agent/join_token/" + token);
}

// The trellis CLI administers the SPIRE role over the operator socket, as
// spire-server's CLI does: token, entry, bundle, agent, svid dump.
TEST_F(SpireAgentTest, CliAdministersTokensEntriesAndAgents) {
  const std::string addr = "--addr=" + trellisd_->operator_address();
  CliResult token = RunCli({addr, "spire", "token", "generate", "--ttl=60"});
  ASSERT_EQ(token.exit_code, 0) << token.err;
  std::string value;
  ASSERT_TRUE(RE2::PartialMatch(token.out, "Token: (\\S+)", &value));
  const std::string agent_id =
      absl::StrCat("spiffe://", kTd, "/spire/agent/join_token/", value);
  CliResult entry =
      RunCli({addr, "spire", "entry", "create", "--parent_id=" + agent_id,
              absl::StrCat("--spiffe_id=spiffe://", kTd, "/cli-workload"),
              absl::StrCat("--selector=unix:uid:", getuid()),
              "--dns=cli.example.org"});
  ASSERT_EQ(entry.exit_code, 0) << entry.err;
  EXPECT_NE(entry.out.find("/cli-workload"), std::string::npos) << entry.out;
  // Invalid input: a clear error, exit 1, nothing stored.
  CliResult bad = RunCli(
      {addr, "spire", "entry", "create", "--parent_id=" + agent_id,
       absl::StrCat("--spiffe_id=spiffe://", kTd, "/x"), "--selector=unix"});
  EXPECT_EQ(bad.exit_code, 1);
  CliResult shown = RunCli({addr, "spire", "entry", "show"});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  EXPECT_EQ(std::count(shown.out.begin(), shown.out.end(), '\n'), 1)
      << shown.out;

  CliResult bundle = RunCli({addr, "spire", "bundle", "show"});
  ASSERT_EQ(bundle.exit_code, 0) << bundle.err;
  const std::string bundle_path = dir_.path() + "/cli-bundle.pem";
  ASSERT_TRUE(ReplaceFile(bundle_path, bundle.out, 0644).ok());
  auto agent = StartAgent("agent4", value, bundle_path);
  const std::string out = dir_.path() + "/fetched";
  ASSERT_EQ(FetchSvids(sockets_.back(), out, 1), 1);
  CliResult dump = RunCli({"svid", "dump", out + "/svid.0.pem"});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find(absl::StrCat("spiffe://", kTd, "/cli-workload")),
            std::string::npos)
      << dump.out;
  EXPECT_NE(dump.out.find("cli.example.org"), std::string::npos) << dump.out;

  // The SVID is provably in the issuance log (once the sequencer has
  // integrated its record), linked to the agent that asked for it.
  const std::vector<std::string> verify = {
      addr, "svid", "verify", out + "/svid.0.pem", "--bundle=" + bundle_path};
  CliResult verified;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while ((verified = RunCli(verify)).exit_code != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  EXPECT_NE(verified.out.find("\"agent_id\": \"" + agent_id), std::string::npos)
      << verified.out;
  EXPECT_NE(verified.out.find("\"kind\": \"X509_SVID\""), std::string::npos);
  // A certificate without a promise (the server's own), or with a changed
  // byte, is refused.
  EXPECT_EQ(RunCli({addr, "svid", "verify",
                    dir_.path() + "/trellisd/spire/server-svid.pem",
                    "--bundle=" + bundle_path})
                .exit_code,
            1);
  std::string der = ReadAll(out + "/svid.0.pem");
  der[der.size() / 2] = der[der.size() / 2] == 'A' ? 'B' : 'A';
  ASSERT_TRUE(ReplaceFile(out + "/tampered.pem", der, 0644).ok());
  EXPECT_NE(RunCli({addr, "svid", "verify", out + "/tampered.pem",
                    "--bundle=" + bundle_path})
                .exit_code,
            0);

  CliResult agents = RunCli({addr, "spire", "agent", "list"});
  ASSERT_EQ(agents.exit_code, 0) << agents.err;
  EXPECT_NE(agents.out.find(value), std::string::npos) << agents.out;
  EXPECT_EQ(RunCli({addr, "spire", "agent", "evict", "--spiffe_id=" + agent_id})
                .exit_code,
            0);
  EXPECT_EQ(RunCli({addr, "spire", "agent", "show", "--spiffe_id=" + agent_id})
                .exit_code,
            1);
}

// An unmodified spire-server (v1.13.3) as a downstream server: its
// UpstreamAuthority "spire" plugin gets its SVID from our agent (an entry
// marked downstream), then its intermediate CA from trellisd
// (NewDownstreamX509CA) and publishes its JWT key (PublishJWTAuthority).
TEST_F(SpireAgentTest, DownstreamServerGetsItsCaFromTrellis) {
  const std::string server_bin = PeerBinary("spire-server");
  ASSERT_EQ(access(server_bin.c_str(), X_OK), 0)
      << server_bin << " is missing: run scripts/build_peers.sh";
  const std::string token = CreateToken();
  entry_v1::BatchCreateEntryRequest request;
  spire::api::types::Entry* entry = request.add_entries();
  entry->mutable_parent_id()->set_trust_domain(kTd);
  entry->mutable_parent_id()->set_path("/spire/agent/join_token/" + token);
  entry->mutable_spiffe_id()->set_trust_domain(kTd);
  entry->mutable_spiffe_id()->set_path("/downstream");
  entry->set_downstream(true);
  spire::api::types::Selector* selector = entry->add_selectors();
  selector->set_type("unix");
  selector->set_value(absl::StrCat("uid:", getuid()));
  {
    grpc::ClientContext context;
    entry_v1::BatchCreateEntryResponse response;
    ASSERT_TRUE(entries_->BatchCreateEntry(&context, request, &response).ok());
    ASSERT_EQ(response.results(0).status().code(), 0);
  }
  const std::string bundle = WriteBundle();
  auto agent = StartAgent("downstream-agent", token, bundle);
  ASSERT_EQ(FetchSvids(sockets_.back(), dir_.path() + "/ds-svid", 1), 1);

  // The downstream's SVID gets a CA over plain gRPC; no SVID, no CA.
  {
    crypto::PrivateKey key = ca::testing::NewP256Key();
    auto channel = ca::testing::SpireChannel(
        absl::StrCat("127.0.0.1:", trellisd_->spire_port()),
        ReadAll(dir_.path() + "/ds-svid/svid.0.key"),
        ReadAll(dir_.path() + "/ds-svid/svid.0.pem"));
    grpc::ClientContext context;
    svid_v1::NewDownstreamX509CARequest ca_request;
    ca_request.set_csr(ca::testing::MakeCsr(key.get()));
    svid_v1::NewDownstreamX509CAResponse ca_response;
    EXPECT_TRUE(svid_v1::SVID::NewStub(channel)
                    ->NewDownstreamX509CA(&context, ca_request, &ca_response)
                    .ok());
    EXPECT_EQ(ca_response.ca_cert_chain_size(), 1);
    EXPECT_GE(ca_response.x509_authorities_size(), 1);
    // The legacy node API's equivalents (servers of SPIRE <= v0.10).
    grpc::ClientContext legacy_context;
    spire::api::node::FetchX509CASVIDRequest legacy_request;
    legacy_request.set_csr(ca_request.csr());
    spire::api::node::FetchX509CASVIDResponse legacy_response;
    auto node = spire::api::node::Node::NewStub(channel);
    ASSERT_TRUE(
        node->FetchX509CASVID(&legacy_context, legacy_request, &legacy_response)
            .ok());
    absl::StatusOr<ca::CertificateInfo> legacy_ca =
        ca::DescribeCertificate(legacy_response.svid().cert_chain());
    ASSERT_TRUE(legacy_ca.ok()) << legacy_ca.status();
    EXPECT_TRUE(legacy_ca->is_ca);
    EXPECT_EQ(legacy_ca->uri_sans,
              std::vector<std::string>{absl::StrCat("spiffe://", kTd)});
    EXPECT_GE(legacy_response.bundle().root_cas_size(), 1);
    grpc::ClientContext push_context;
    spire::api::node::PushJWTKeyUpstreamRequest push;
    push.mutable_jwt_key()->set_kid("legacy-downstream-key");
    push.mutable_jwt_key()->set_pkix_bytes(
        *crypto::MarshalPublicKey(*ca::testing::NewP256Key()));
    spire::api::node::PushJWTKeyUpstreamResponse pushed;
    ASSERT_TRUE(node->PushJWTKeyUpstream(&push_context, push, &pushed).ok());
    bool held = false;
    for (const auto& jwt_key : pushed.jwt_signing_keys()) {
      held = held || jwt_key.kid() == "legacy-downstream-key";
    }
    EXPECT_TRUE(held);
    grpc::ClientContext anonymous;
    svid_v1::NewDownstreamX509CAResponse refused;
    EXPECT_EQ(
        svid_v1::SVID::NewStub(ca::testing::SpireChannel(absl::StrCat(
                                   "127.0.0.1:", trellisd_->spire_port())))
            ->NewDownstreamX509CA(&anonymous, ca_request, &refused)
            .error_code(),
        grpc::StatusCode::UNAUTHENTICATED);
  }

  const std::string data = dir_.path() + "/downstream-server";
  mkdir(data.c_str(), 0700);
  const std::string socket =
      absl::StrCat("/tmp/trellis-ds-", getpid(), ".sock");
  const std::string config = absl::StrCat(
      "server {\n  bind_address = \"127.0.0.1\"\n  bind_port = \"0\"\n",
      "  socket_path = \"", socket, "\"\n  trust_domain = \"", kTd,
      "\"\n  data_dir = \"", data, "\"\n  log_level = \"DEBUG\"\n}\n",
      "plugins {\n  DataStore \"sql\" { plugin_data { database_type = "
      "\"sqlite3\" connection_string = \"",
      data, "/datastore.sqlite3\" } }\n",
      "  KeyManager \"memory\" { plugin_data {} }\n",
      "  NodeAttestor \"join_token\" { plugin_data {} }\n",
      "  UpstreamAuthority \"spire\" { plugin_data {\n",
      "    server_address = \"127.0.0.1\"\n    server_port = \"",
      trellisd_->spire_port(), "\"\n    workload_api_socket = \"",
      sockets_.back(), "\"\n  } }\n}\n");
  ASSERT_TRUE(ReplaceFile(data + "/server.conf", config, 0600).ok());
  ServerProcess downstream(
      {server_bin, "run", "-config", data + "/server.conf"}, "");
  const auto upstream_cli = [&](std::vector<std::string> args) {
    args.push_back("-socketPath");
    args.push_back(socket);
    return RunProgram(server_bin, args);
  };
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (upstream_cli({"healthcheck"}).exit_code != 0 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(250));
  }
  // A workload SVID minted by the downstream server chains, through the
  // intermediate CA trellisd signed, to trellisd's roots.
  const std::string minted = dir_.path() + "/minted";
  mkdir(minted.c_str(), 0700);
  CliResult mint = upstream_cli({"x509", "mint", "-spiffeID",
                                 absl::StrCat("spiffe://", kTd, "/below"),
                                 "-write", minted});
  ASSERT_EQ(mint.exit_code, 0) << mint.out << mint.err;
  CliResult verified = RunProgram("/usr/bin/openssl",
                                  {"verify", "-CAfile", bundle, "-untrusted",
                                   minted + "/svid.pem", minted + "/svid.pem"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  // Its JWT key is in our bundle now (and so in every agent's).
  CliResult jwks = RunCli({"--addr=" + trellisd_->operator_address(), "spire",
                           "bundle", "show", "--format=spiffe"});
  ASSERT_EQ(jwks.exit_code, 0);
  int ours_jwt = 0;
  for (size_t at = 0; (at = jwks.out.find("jwt-svid", at)) != std::string::npos;
       ++at) {
    ++ours_jwt;
  }
  EXPECT_GE(ours_jwt, 2) << jwks.out;  // Our key and the downstream's.
}

// An organisation's root (made by the openssl CLI, no SPIFFE ID) as the
// upstream CA: the agent trusts that root alone, and the SVIDs it serves
// chain to it through trellisd's CA.
TEST_F(SpireAgentTest, UpstreamCaIsTheTrustDomainsRoot) {
  const std::string key = dir_.path() + "/upstream.key";
  const std::string root = dir_.path() + "/upstream.pem";
  CliResult made =
      RunProgram("/usr/bin/openssl",
                 {"req", "-x509", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out",
                  root, "-days", "30", "-subj", "/O=Example/CN=Example Root",
                  "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                  "keyUsage=critical,keyCertSign,cRLSign"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  trellisd_.reset();
  StartTrellisd({"--upstream_ca_cert=" + root, "--upstream_ca_key=" + key},
                "trellisd-upstream");
  const std::string token = CreateToken();
  CreateEntries(token, 1);
  auto agent = StartAgent("upstream-agent", token, root);
  const std::string out = dir_.path() + "/upstream-svids";
  ASSERT_EQ(FetchSvids(sockets_.back(), out, 1), 1);
  CliResult verified = RunProgram("/usr/bin/openssl",
                                  {"verify", "-CAfile", root, "-untrusted",
                                   out + "/svid.0.pem", out + "/svid.0.pem"});
  EXPECT_EQ(verified.exit_code, 0) << verified.out << verified.err;
  // An auditor verifies it the same way: chain to the root, promise, record.
  const std::vector<std::string> verify = {
      "--addr=" + trellisd_->operator_address(), "svid", "verify",
      out + "/svid.0.pem", "--bundle=" + root};
  CliResult audited;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while ((audited = RunCli(verify)).exit_code != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_EQ(audited.exit_code, 0) << audited.out << audited.err;
  // The trust domain's bundle is the organisation's root, alone.
  CliResult bundle = RunCli(
      {"--addr=" + trellisd_->operator_address(), "spire", "bundle", "show"});
  ASSERT_EQ(bundle.exit_code, 0);
  EXPECT_EQ(bundle.out, ReadAll(root));
}

TEST_F(SpireAgentTest, AdministrationIsForOperatorsOnly) {
  // On the SPIRE port (server authentication skipped here: only the
  // authorisation is under test) a caller without an operator identity may
  // not create tokens.
  auto channel = ca::testing::SpireChannel(
      absl::StrCat("127.0.0.1:", trellisd_->spire_port()));
  grpc::ClientContext context;
  agent_v1::CreateJoinTokenRequest request;
  request.set_ttl(60);
  spire::api::types::JoinToken token;
  const grpc::Status s = agent_v1::Agent::NewStub(channel)->CreateJoinToken(
      &context, request, &token);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << s.error_message();
  EXPECT_TRUE(token.value().empty());
  // Attestation is limited per address (one a second, as upstream): a
  // second attempt right after the first is refused before it is looked at.
  auto attest = [&] {
    grpc::ClientContext attest_context;
    auto stream =
        agent_v1::Agent::NewStub(channel)->AttestAgent(&attest_context);
    agent_v1::AttestAgentRequest attempt;
    attempt.mutable_params()->mutable_data()->set_type("join_token");
    attempt.mutable_params()->mutable_data()->set_payload("no-such-token");
    attempt.mutable_params()->mutable_params()->set_csr("csr");
    stream->Write(attempt);
    stream->WritesDone();
    agent_v1::AttestAgentResponse ignored;
    while (stream->Read(&ignored)) {
    }
    return stream->Finish().error_code();
  };
  EXPECT_EQ(attest(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(attest(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // Agent calls without an agent SVID: unauthenticated.
  grpc::ClientContext renew_context;
  agent_v1::RenewAgentResponse renewed;
  EXPECT_EQ(agent_v1::Agent::NewStub(channel)
                ->RenewAgent(&renew_context, {}, &renewed)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace trellis::testing
