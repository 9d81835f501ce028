// The `tpm` node attestor (bloomberg/spire-tpm-plugin's protocol) end to
// end: trellisd with manufacturer CAs or an EK hash directory, a software
// TPM (swtpm) driven by the agent side trellis-agent uses, over the SPIRE
// agent API. The agent is named by its EK, re-attests rather than renews,
// and its tpm:pub_hash selector drives node-alias entries; unknown EKs,
// wrong answers and a server without the attestor are refused with nothing
// stored.
#include <sys/stat.h>

#include <algorithm>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "attest/host/tpm_device.h"
#include "attest/spire_tpm/agent_attestor.h"
#include "attest/testing/swtpm.h"
#include "ca/testing/csr.h"
#include "ca/testing/spire_channel.h"
#include "ca/x509.h"
#include "crypto/keys.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "spire/api/server/agent/v1/agent.grpc.pb.h"
#include "spire/api/server/entry/v1/entry.grpc.pb.h"
#include "tests/spire_operator.h"
#include "tests/trellisd_process.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using nlohmann::json;
namespace agent_v1 = spire::api::server::agent::v1;
namespace entry_v1 = spire::api::server::entry::v1;

constexpr char kNoRateLimit[] = "--attestations_per_second=0";

std::vector<std::string> UriSans(const std::string& cert_der) {
  absl::StatusOr<ca::CertificateInfo> info = ca::DescribeCertificate(cert_der);
  EXPECT_TRUE(info.ok()) << info.status();
  return info.ok() ? info->uri_sans : std::vector<std::string>{};
}

struct Attested {
  grpc::Status status;
  agent_v1::AttestAgentResponse::Result result;
  std::string key_pem;
  std::string chain_pem;
};

class TpmNodeAttestorTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags) {
    flags.push_back(kNoRateLimit);
    server_ = std::make_unique<TrellisdProcess>(dir_.path() + "/data",
                                                std::move(flags));
    spire_address_ = absl::StrCat("127.0.0.1:", server_->spire_port());
  }

  // The EK hash by tpm2-tools and the openssl CLI, independently of ours.
  std::string EkHash(Swtpm& tpm) {
    std::string out;
    EXPECT_EQ(
        tpm.RunTools(
            absl::StrCat("tpm2_createek -c ", dir_.path(),
                         "/ek.ctx -G rsa -f pem -u ", dir_.path(),
                         "/ek.pem >/dev/null && openssl pkey -pubin -in ",
                         dir_.path(),
                         "/ek.pem -outform DER | sha256sum | cut -d' ' -f1"),
            &out),
        0);
    return std::string(absl::StripAsciiWhitespace(out));
  }

  // AttestAgent with type "tpm" as trellis-agent does it on `tpm`; `answer`
  // may replace the TPM's answer to the challenge.
  Attested Attest(Swtpm& tpm,
                  std::function<std::string(std::string)> answer = nullptr) {
    Attested out;
    absl::StatusOr<std::unique_ptr<attest::host::TpmDevice>> device =
        attest::host::TpmDevice::Open(tpm.tcti());
    EXPECT_TRUE(device.ok()) << device.status();
    attest::spire_tpm::AgentAttestor attestor(device->get());
    absl::StatusOr<std::string> payload = attestor.Payload();
    EXPECT_TRUE(payload.ok()) << payload.status();
    crypto::PrivateKey key = ca::testing::NewP256Key();
    grpc::ClientContext context;
    auto stream =
        agent_v1::Agent::NewStub(ca::testing::SpireChannel(spire_address_))
            ->AttestAgent(&context);
    agent_v1::AttestAgentRequest request;
    request.mutable_params()->mutable_data()->set_type("tpm");
    request.mutable_params()->mutable_data()->set_payload(*payload);
    request.mutable_params()->mutable_params()->set_csr(
        ca::testing::MakeCsr(key.get()));
    EXPECT_TRUE(stream->Write(request));
    agent_v1::AttestAgentResponse response;
    while (stream->Read(&response)) {
      if (response.has_result()) {
        out.result = response.result();
        break;
      }
      absl::StatusOr<std::string> reply = attestor.Answer(response.challenge());
      EXPECT_TRUE(reply.ok()) << reply.status();
      agent_v1::AttestAgentRequest next;
      next.set_challenge_response(answer ? answer(*reply) : *reply);
      if (!stream->Write(next)) break;
    }
    stream->WritesDone();
    out.status = stream->Finish();
    out.key_pem = ca::DerToPem(*crypto::MarshalPrivateKey(*key), "PRIVATE KEY");
    for (const std::string& der : out.result.svid().cert_chain()) {
      out.chain_pem += ca::DerToPem(der, "CERTIFICATE");
    }
    return out;
  }

  std::unique_ptr<agent_v1::Agent::Stub> OperatorAgents() {
    return agent_v1::Agent::NewStub(grpc::CreateChannel(
        server_->operator_address(), grpc::InsecureChannelCredentials()));
  }

  int CountAgents() {
    grpc::ClientContext context;
    agent_v1::CountAgentsResponse count;
    EXPECT_TRUE(
        OperatorAgents()
            ->CountAgents(&context, agent_v1::CountAgentsRequest(), &count)
            .ok());
    return count.count();
  }

  TempDir dir_;
  std::unique_ptr<TrellisdProcess> server_;
  std::string spire_address_;
};

TEST_F(TpmNodeAttestorTest, AgentWithManufacturerCertifiedEkAttests) {
  Swtpm tpm(/*ek_certificate=*/true);
  const std::string ca_file = dir_.path() + "/ek-ca.pem";
  ASSERT_TRUE(ReplaceFile(ca_file, LocalCaBundle(), 0644).ok());
  Start({"--tpm_attestor_ek_ca_file=" + ca_file});
  const std::string hash = EkHash(tpm);
  const std::string agent_id = "spiffe://example.org/spire/agent/tpm/" + hash;

  Attested first = Attest(tpm);
  ASSERT_TRUE(first.status.ok()) << first.status.error_message();
  EXPECT_EQ(first.result.svid().id().path(), "/spire/agent/tpm/" + hash);
  EXPECT_TRUE(first.result.reattestable());
  EXPECT_EQ(UriSans(first.result.svid().cert_chain(0)),
            std::vector<std::string>{agent_id});

  // The operator sees the agent, its attestor and its selector.
  grpc::ClientContext get_context;
  agent_v1::GetAgentRequest get;
  get.mutable_id()->set_trust_domain("example.org");
  get.mutable_id()->set_path("/spire/agent/tpm/" + hash);
  spire::api::types::Agent agent;
  ASSERT_TRUE(OperatorAgents()->GetAgent(&get_context, get, &agent).ok());
  EXPECT_EQ(agent.attestation_type(), "tpm");
  EXPECT_TRUE(agent.can_reattest());
  ASSERT_EQ(agent.selectors_size(), 1);
  EXPECT_EQ(agent.selectors(0).type(), "tpm");
  EXPECT_EQ(agent.selectors(0).value(), "pub_hash:" + hash);

  // A re-attestable agent re-attests instead of renewing, as upstream.
  auto as_agent = agent_v1::Agent::NewStub(ca::testing::SpireChannel(
      spire_address_, first.key_pem, first.chain_pem, 1));
  grpc::ClientContext renew_context;
  agent_v1::RenewAgentRequest renew;
  renew.mutable_params()->set_csr(
      ca::testing::MakeCsr(ca::testing::NewP256Key().get()));
  agent_v1::RenewAgentResponse renewed;
  grpc::Status refused = as_agent->RenewAgent(&renew_context, renew, &renewed);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_NE(
      refused.error_details().find("spire.api.types.PermissionDeniedDetails"),
      std::string::npos);
  EXPECT_NE(refused.error_message().find("re-attest"), std::string::npos)
      << refused.error_message();

  // Its selector makes node-alias entries apply: a workload entry under the
  // alias is authorised for this agent.
  auto entries = entry_v1::Entry::NewStub(grpc::CreateChannel(
      server_->operator_address(), grpc::InsecureChannelCredentials()));
  entry_v1::BatchCreateEntryRequest create;
  *create.add_entries() = MakeEntry("example.org", "/spire/server",
                                    "/node/tpm-hosts", "tpm:pub_hash:" + hash);
  *create.add_entries() = MakeEntry("example.org", "/node/tpm-hosts",
                                    "/workload/on-tpm-hosts", "unix:uid:1000");
  grpc::ClientContext create_context;
  entry_v1::BatchCreateEntryResponse created;
  ASSERT_TRUE(
      entries->BatchCreateEntry(&create_context, create, &created).ok());
  for (const auto& r : created.results()) {
    ASSERT_EQ(r.status().code(), 0) << r.status().message();
  }

  // Re-attestation: the same TPM, a new AK, the same agent ID, a new SVID.
  Attested second = Attest(tpm);
  ASSERT_TRUE(second.status.ok()) << second.status.error_message();
  EXPECT_EQ(UriSans(second.result.svid().cert_chain(0)),
            std::vector<std::string>{agent_id});
  EXPECT_NE(ca::SerialNumber(second.result.svid().cert_chain(0)).value(),
            ca::SerialNumber(first.result.svid().cert_chain(0)).value());
  EXPECT_EQ(CountAgents(), 1);

  auto entries_as_agent = entry_v1::Entry::NewStub(ca::testing::SpireChannel(
      spire_address_, second.key_pem, second.chain_pem, 2));
  grpc::ClientContext authorized_context;
  entry_v1::GetAuthorizedEntriesResponse authorized;
  ASSERT_TRUE(entries_as_agent
                  ->GetAuthorizedEntries(
                      &authorized_context,
                      entry_v1::GetAuthorizedEntriesRequest(), &authorized)
                  .ok());
  std::vector<std::string> paths;
  for (const auto& e : authorized.entries()) {
    paths.push_back(e.spiffe_id().path());
  }
  EXPECT_NE(std::find(paths.begin(), paths.end(), "/workload/on-tpm-hosts"),
            paths.end());

  // The agent SVID is in the issuance log as a tpm attestation.
  const std::string bundle_path = dir_.path() + "/bundle.pem";
  const std::string cert_path = dir_.path() + "/agent.pem";
  const std::string addr = "--addr=" + server_->operator_address();
  CliResult bundle = RunCli({addr, "spire", "bundle", "show"});
  ASSERT_EQ(bundle.exit_code, 0) << bundle.err;
  ASSERT_TRUE(ReplaceFile(bundle_path, bundle.out, 0644).ok());
  ASSERT_TRUE(ReplaceFile(cert_path, second.chain_pem, 0644).ok());
  const json out =
      VerifySvidWhenLogged(server_->operator_address(), cert_path, bundle_path);
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out["record"]["kind"], "AGENT_X509_SVID");
  EXPECT_EQ(out["record"]["attestation_type"], "tpm");
}

TEST_F(TpmNodeAttestorTest, UnknownEkAndWrongAnswersAreRefused) {
  Swtpm tpm;
  const std::string hashes = dir_.path() + "/ek-hashes";
  ASSERT_EQ(mkdir(hashes.c_str(), 0700), 0);
  Start({"--tpm_attestor_ek_hash_dir=" + hashes});

  Attested unknown = Attest(tpm);
  EXPECT_EQ(unknown.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << unknown.status.error_message();
  EXPECT_FALSE(unknown.result.has_svid());

  // Listed, but answering with a secret the TPM did not release.
  ASSERT_TRUE(ReplaceFile(hashes + "/" + EkHash(tpm), "", 0644).ok());
  Attested forged = Attest(tpm, [](const std::string&) {
    return std::string(
        R"({"Secret":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="})");
  });
  EXPECT_EQ(forged.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << forged.status.error_message();
  Attested garbage =
      Attest(tpm, [](const std::string&) { return std::string("{"); });
  EXPECT_EQ(garbage.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
      << garbage.status.error_message();
  EXPECT_EQ(CountAgents(), 0);

  Attested listed = Attest(tpm);
  EXPECT_TRUE(listed.status.ok()) << listed.status.error_message();
  EXPECT_EQ(CountAgents(), 1);
}

TEST_F(TpmNodeAttestorTest, WithoutConfigurationTheAttestorIsUnknown) {
  Swtpm tpm;
  Start({});
  Attested refused = Attest(tpm);
  EXPECT_EQ(refused.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_NE(refused.status.error_message().find("\"tpm\""), std::string::npos);
  EXPECT_EQ(CountAgents(), 0);
}

}  // namespace
}  // namespace trellis::testing
