// Sovereign attestation on trellisd's SPIRE API, end to end with real
// processes: trellisd with the Unified-Identity flag, trellis-tpm on a
// software TPM (swtpm) making the quotes and app key certifications, and a
// gRPC client speaking as an agent. A host's agent attests with a server
// nonce, gets an SVID carrying its claims and the claims in the answer, and
// `trellis svid verify` follows the SVID to the logged verdict behind it;
// failing evidence yields no SVID; renewal asks for fresh evidence; workload
// SVIDs with sovereign evidence carry claims too; phase-1 mode and the flag
// off behave as the user's documents say.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "attest/testing/swtpm.h"
#include "ca/testing/csr.h"
#include "ca/testing/spire_channel.h"
#include "ca/x509.h"
#include "crypto/keys.h"
#include "crypto/random.h"
#include "grpcpp/create_channel.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "spire/api/server/agent/v1/agent.grpc.pb.h"
#include "spire/api/server/entry/v1/entry.grpc.pb.h"
#include "spire/api/server/svid/v1/svid.grpc.pb.h"
#include "tests/spire_operator.h"
#include "tests/trellisd_process.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using nlohmann::json;
using spire::api::types::AttestedClaims;
using spire::api::types::SovereignAttestation;
namespace agent_v1 = spire::api::server::agent::v1;
namespace entry_v1 = spire::api::server::entry::v1;
namespace svid_v1 = spire::api::server::svid::v1;

constexpr char kTrellisTpm[] = "cmd/trellis-tpm/trellis-tpm";
constexpr char kHost[] = "host-a";
constexpr char kAgentId[] =
    "spiffe://example.org/spire/agent/unified_identity/host-a";
constexpr char kSovereignFlag[] = "--feature_flags=Unified-Identity";
constexpr char kNoRateLimit[] = "--attestations_per_second=0";

// An agent's key and SVID chain, PEM.
struct AgentCredentials {
  std::string key_pem;
  std::string chain_pem;
};

class SovereignTest : public ::testing::Test {
 protected:
  void Start(std::vector<std::string> flags) {
    server_ = std::make_unique<TrellisdProcess>(dir_.path() + "/data",
                                                std::move(flags));
    spire_address_ = absl::StrCat("127.0.0.1:", server_->spire_port());
  }

  std::string TpmOut(std::vector<std::string> args) {
    args.insert(args.begin(), {"--tcti=" + tpm_.tcti(),
                               "--work_dir=" + dir_.path() + "/agent"});
    CliResult r = RunProgram(kTrellisTpm, args);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
  }

  // The host's EK and AK enrolled with the registrar of `verifier` (by
  // default the SPIRE server's own).
  void Register(TrellisdProcess* verifier = nullptr) {
    if (verifier == nullptr) verifier = server_.get();
    TpmOut({"create-ek-ak"});
    TpmOut({"register",
            "--verifier=https://127.0.0.1:" +
                std::to_string(verifier->verifier_port()),
            "--verifier_ca=" + verifier->verifier_ca_file(),
            std::string("--host_id=") + kHost});
  }

  // The host's evidence quoting `nonce` (raw bytes), made by trellis-tpm.
  SovereignAttestation Evidence(const std::string& nonce) {
    const std::string hex = absl::BytesToHexString(nonce);
    const json app = json::parse(TpmOut({"generate-app-key"}));
    SovereignAttestation evidence;
    evidence.set_tpm_signed_attestation(
        TpmOut({"generate-quote", "--nonce=" + hex,
                "--pcrs=sha256:0,1,2,3,4,5,6,7,10"}));
    evidence.set_app_key_public(app["app_key_public"].get<std::string>());
    evidence.set_app_key_certificate(
        TpmOut({"certify-app-key", "--nonce=" + hex}));
    evidence.set_challenge_nonce(hex);
    evidence.set_keylime_agent_uuid(kHost);
    return evidence;
  }

  // AttestAgent as a sovereign agent of kHost: the server's challenge is
  // answered with what `answer` makes of its nonce.
  grpc::Status AttestSovereign(
      const std::function<SovereignAttestation(const std::string&)>& answer,
      agent_v1::AttestAgentResponse::Result* result,
      AgentCredentials* credentials, std::string* nonce = nullptr) {
    crypto::PrivateKey key = ca::testing::NewP256Key();
    grpc::ClientContext context;
    auto stream =
        agent_v1::Agent::NewStub(ca::testing::SpireChannel(spire_address_))
            ->AttestAgent(&context);
    agent_v1::AttestAgentRequest request;
    request.mutable_params()->mutable_data()->set_type("unified_identity");
    request.mutable_params()->mutable_data()->set_payload(kHost);
    request.mutable_params()->mutable_params()->set_csr(
        ca::testing::MakeCsr(key.get()));
    EXPECT_TRUE(stream->Write(request));
    agent_v1::AttestAgentResponse response;
    if (stream->Read(&response) && !response.challenge().empty()) {
      if (nonce != nullptr) *nonce = response.challenge();
      agent_v1::AttestAgentRequest reply;
      reply.set_challenge_response(
          answer(response.challenge()).SerializeAsString());
      EXPECT_TRUE(stream->Write(reply));
      stream->WritesDone();
      if (stream->Read(&response)) *result = response.result();
    }
    grpc::Status status = stream->Finish();
    credentials->key_pem =
        ca::DerToPem(*crypto::MarshalPrivateKey(*key), "PRIVATE KEY");
    for (const std::string& der : result->svid().cert_chain()) {
      credentials->chain_pem += ca::DerToPem(der, "CERTIFICATE");
    }
    return status;
  }

  // AttestSovereign answered with the host's real evidence.
  grpc::Status AttestWithEvidence(agent_v1::AttestAgentResponse::Result* result,
                                  AgentCredentials* credentials,
                                  std::string* nonce = nullptr) {
    return AttestSovereign(
        [this](const std::string& challenge) { return Evidence(challenge); },
        result, credentials, nonce);
  }

  std::shared_ptr<grpc::Channel> AgentChannel(const AgentCredentials& agent) {
    return ca::testing::SpireChannel(spire_address_, agent.key_pem,
                                     agent.chain_pem, ++channels_);
  }

  // `trellis svid latest ID` once the identity map shows the certificate
  // `cert_der` as the latest issuance to `spiffe_id`.
  json Latest(const std::string& spiffe_id, const std::string& cert_der) {
    const std::string serial = ca::SerialNumber(cert_der).value();
    const std::vector<std::string> args = {
        "--addr=" + server_->operator_address(), "svid", "latest", spiffe_id};
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    json latest;
    do {
      CliResult r = RunCli(args);
      if (r.exit_code == 0) {
        latest = json::parse(r.out, nullptr, false);
        if (latest["record"]["serial_number"] == serial) return latest;
      }
      absl::SleepFor(absl::Milliseconds(200));
    } while (absl::Now() < deadline);
    ADD_FAILURE() << "the identity map never showed serial " << serial
                  << " for " << spiffe_id << ": " << latest;
    return latest;
  }

  // `trellis svid verify` of `cert_der` (written to `cert_path`) against
  // the server's bundle, once its record is logged; null if it never
  // verifies.
  json VerifyCert(const std::string& cert_der, const std::string& cert_path) {
    CliResult bundle = RunCli(
        {"--addr=" + server_->operator_address(), "spire", "bundle", "show"});
    EXPECT_EQ(bundle.exit_code, 0) << bundle.err;
    const std::string bundle_path = dir_.path() + "/bundle.pem";
    EXPECT_TRUE(ReplaceFile(bundle_path, bundle.out, 0644).ok());
    EXPECT_TRUE(
        ReplaceFile(cert_path, ca::DerToPem(cert_der, "CERTIFICATE"), 0644)
            .ok());
    return VerifySvidWhenLogged(server_->operator_address(), cert_path,
                                bundle_path);
  }

  // The claims document of a certificate's extension `oid`, null if none.
  static json ClaimsOf(const std::string& cert_der, const char* oid) {
    absl::StatusOr<std::string> value = ca::ExtensionValue(cert_der, oid);
    if (!value.ok()) return nullptr;
    return json::parse(*value, nullptr, false);
  }

  TempDir dir_;
  Swtpm tpm_;
  std::unique_ptr<TrellisdProcess> server_;
  std::string spire_address_;
  int channels_ = 0;
};

TEST_F(SovereignTest, AgentAttestsWithTpmEvidenceAndIsProvable) {
  Start({kSovereignFlag, kNoRateLimit});
  Register();
  agent_v1::AttestAgentResponse::Result result;
  AgentCredentials agent;
  std::string nonce;
  grpc::Status s = AttestWithEvidence(&result, &agent, &nonce);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(nonce.size(), 32u);
  EXPECT_EQ(result.svid().id().path(), "/spire/agent/unified_identity/host-a");
  EXPECT_TRUE(result.reattestable());
  ASSERT_EQ(result.attested_claims_size(), 1);
  EXPECT_EQ(result.attested_claims(0).host_integrity_status(),
            AttestedClaims::PASSED_ALL_CHECKS);

  // The claims document in the certificate (the fork's current OID).
  const std::string cert = result.svid().cert_chain(0);
  const json claims = ClaimsOf(cert, ca::kSovereignClaimsOid);
  ASSERT_TRUE(claims.is_object()) << claims;
  EXPECT_EQ(claims["grc.workload"]["workload-id"], kAgentId);
  EXPECT_EQ(claims["grc.workload"]["key-source"], "workload-key");
  EXPECT_EQ(claims["grc.tpm-attestation"]["challenge-nonce"],
            absl::BytesToHexString(nonce));
  EXPECT_FALSE(
      claims["grc.tpm-attestation"]["quote"].get<std::string>().empty());
  EXPECT_TRUE(ClaimsOf(cert, ca::kLegacySovereignClaimsOid).is_null());

  // An auditor follows the SVID to its record and on to the verdict.
  const std::string addr = "--addr=" + server_->operator_address();
  const std::string cert_path = dir_.path() + "/agent.pem";
  const json out = VerifyCert(cert, cert_path);
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out["record"]["kind"], "AGENT_X509_SVID");
  EXPECT_EQ(out["record"]["attestation_type"], "unified_identity");
  EXPECT_EQ(out["verdict"]["verified"], true);
  EXPECT_EQ(out["verdict"]["host_id"], kHost);
  EXPECT_EQ(out["verdict"]["nonce"],
            absl::Base64Escape(nonce));  // Proto JSON bytes are base64.
  EXPECT_EQ(out["claims"]["grc.workload"]["workload-id"], kAgentId);
  // The identity map: the agent's latest issuance and the verdict behind it.
  const json latest = Latest(kAgentId, cert);
  EXPECT_EQ(latest["proof_verified"], true);
  EXPECT_EQ(latest["record"]["attestation_audit_id"],
            out["record"]["attestation_audit_id"]);
  EXPECT_EQ(latest["verdict"]["verified"], true);
  EXPECT_EQ(latest["verdict"]["host_id"], kHost);
  // Nothing was issued to another ID: the map proves its absence.
  EXPECT_EQ(
      RunCli({addr, "svid", "latest", "spiffe://example.org/nobody"}).exit_code,
      1);

  CliResult dump = RunCli({"svid", "dump", cert_path});
  ASSERT_EQ(dump.exit_code, 0) << dump.err;
  EXPECT_NE(dump.out.find("Unified-Identity additions"), std::string::npos)
      << dump.out;
}

TEST_F(SovereignTest, FailingEvidenceYieldsNoSvid) {
  Start({kSovereignFlag, kNoRateLimit});
  Register();
  agent_v1::AttestAgentResponse::Result result;
  AgentCredentials agent;
  // A quote over a nonce of the host's own choosing, not the server's.
  grpc::Status s = AttestSovereign(
      [this](const std::string& nonce) {
        SovereignAttestation evidence = Evidence(crypto::RandomBytes(32));
        evidence.set_challenge_nonce(absl::BytesToHexString(nonce));
        return evidence;
      },
      &result, &agent);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "audit id"))
      << s.error_message();
  EXPECT_FALSE(result.has_svid());
  // A stale nonce (one never issued) is refused as well.
  s = AttestSovereign(
      [this](const std::string&) { return Evidence(crypto::RandomBytes(32)); },
      &result, &agent);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_TRUE(absl::StrContains(s.error_message(), "nonce"))
      << s.error_message();
  // An unregistered host gets no challenge at all.
  grpc::ClientContext context;
  auto stream =
      agent_v1::Agent::NewStub(ca::testing::SpireChannel(spire_address_))
          ->AttestAgent(&context);
  agent_v1::AttestAgentRequest request;
  request.mutable_params()->mutable_data()->set_type("unified_identity");
  request.mutable_params()->mutable_data()->set_payload("no-such-host");
  request.mutable_params()->mutable_params()->set_csr("csr");
  stream->Write(request);
  stream->WritesDone();
  agent_v1::AttestAgentResponse response;
  EXPECT_FALSE(stream->Read(&response));
  EXPECT_EQ(stream->Finish().error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(SovereignTest, RemoteVerifierAppraisesAndLogsTheEvidence) {
  // Another trellisd is the verifier: the host registered there only.
  TrellisdProcess verifier(dir_.path() + "/verifier-data");
  const std::string verifier_url =
      absl::StrCat("https://127.0.0.1:", verifier.verifier_port());
  Start({kSovereignFlag, kNoRateLimit,
         "--sovereign_verifier_url=" + verifier_url,
         "--sovereign_verifier_ca=" + verifier.verifier_ca_file()});
  Register(&verifier);

  agent_v1::AttestAgentResponse::Result result;
  AgentCredentials agent;
  std::string nonce;
  grpc::Status s = AttestWithEvidence(&result, &agent, &nonce);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(result.attested_claims_size(), 1);
  EXPECT_EQ(result.attested_claims(0).host_integrity_status(),
            AttestedClaims::PASSED_ALL_CHECKS);
  const std::string cert = result.svid().cert_chain(0);
  const json claims = ClaimsOf(cert, ca::kSovereignClaimsOid);
  EXPECT_EQ(claims["grc.tpm-attestation"]["challenge-nonce"],
            absl::BytesToHexString(nonce));

  // The SVID's record names the remote verifier and its verdict, which an
  // auditor finds proven in that verifier's log.
  const std::string addr = "--addr=" + server_->operator_address();
  const std::string cert_path = dir_.path() + "/agent.pem";
  const json out = VerifyCert(cert, cert_path);
  ASSERT_TRUE(out.is_object());
  EXPECT_EQ(out["verdict_remote"]["verifier"], verifier_url);
  const std::string audit_id = out["verdict_remote"]["audit_id"];
  ASSERT_EQ(audit_id.size(), 64u);
  const std::string log_id = out["verdict_remote"]["log_id"];
  CliResult shown;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  const std::vector<std::string> show = {
      "--addr=" + verifier.operator_address(), "audit", "show", audit_id,
      "--log=" + log_id};
  while ((shown = RunCli(show)).exit_code != 0 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_EQ(shown.exit_code, 0) << shown.out << shown.err;
  EXPECT_NE(shown.out.find(kHost), std::string::npos) << shown.out;
  // The SPIRE server's identity map does not wait for a verdict it cannot
  // see: the agent's latest issuance is there.
  EXPECT_EQ(Latest(kAgentId, cert)["record"]["attestation_verifier"],
            verifier_url);

  // Evidence the remote verifier refuses yields no SVID.
  s = AttestSovereign(
      [this](const std::string& challenge) {
        SovereignAttestation evidence = Evidence(crypto::RandomBytes(32));
        evidence.set_challenge_nonce(absl::BytesToHexString(challenge));
        return evidence;
      },
      &result, &agent);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << s.error_message();
  EXPECT_TRUE(absl::StrContains(s.error_message(), "remote_verifier"))
      << s.error_message();
}

TEST_F(SovereignTest, RenewalAndWorkloadSvidsNeedFreshEvidence) {
  Start({kSovereignFlag, kNoRateLimit});
  Register();
  agent_v1::AttestAgentResponse::Result attested;
  AgentCredentials agent;
  ASSERT_TRUE(AttestWithEvidence(&attested, &agent).ok());
  auto agent_stub = agent_v1::Agent::NewStub(AgentChannel(agent));
  const auto challenge = [&] {
    grpc::ClientContext context;
    agent_v1::RenewAgentRequest request;
    request.mutable_params()->set_csr(
        ca::testing::MakeCsr(ca::testing::NewP256Key().get()));
    agent_v1::RenewAgentResponse response;
    EXPECT_TRUE(agent_stub->RenewAgent(&context, request, &response).ok());
    EXPECT_FALSE(response.has_svid());  // Evidence first.
    return response.challenge_nonce();
  };

  // Renewal: a challenge, then the SVID for evidence quoting it.
  std::string nonce = challenge();
  ASSERT_EQ(nonce.size(), 32u);
  const SovereignAttestation renewal_evidence = Evidence(nonce);
  {
    grpc::ClientContext context;
    agent_v1::RenewAgentRequest request;
    request.mutable_params()->set_csr(
        ca::testing::MakeCsr(ca::testing::NewP256Key().get()));
    *request.mutable_params()->mutable_sovereign_attestation() =
        renewal_evidence;
    agent_v1::RenewAgentResponse response;
    grpc::Status s = agent_stub->RenewAgent(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_TRUE(response.has_svid());
    ASSERT_EQ(response.attested_claims_size(), 1);
    // The map moves on to the renewed SVID.
    EXPECT_EQ(
        Latest(kAgentId, response.svid().cert_chain(0))["verdict"]["verified"],
        true);
    EXPECT_FALSE(
        ClaimsOf(response.svid().cert_chain(0), ca::kSovereignClaimsOid)
            .is_null());
    // The same evidence twice: its nonce is spent.
    grpc::ClientContext again;
    agent_v1::RenewAgentResponse replayed;
    s = agent_stub->RenewAgent(&again, request, &replayed);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_FALSE(replayed.has_svid());
  }

  // A workload entry under the agent, and its SVID with sovereign evidence.
  auto op = grpc::CreateChannel(server_->operator_address(),
                                grpc::InsecureChannelCredentials());
  entry_v1::BatchCreateEntryRequest create;
  *create.add_entries() =
      MakeEntry("example.org", "/spire/agent/unified_identity/host-a",
                "/workload/a", "unix:uid:1000");
  entry_v1::BatchCreateEntryResponse created;
  grpc::ClientContext create_context;
  ASSERT_TRUE(entry_v1::Entry::NewStub(op)
                  ->BatchCreateEntry(&create_context, create, &created)
                  .ok());
  const std::string entry_id = created.results(0).entry().id();
  ASSERT_FALSE(entry_id.empty());

  const SovereignAttestation workload_evidence = Evidence(challenge());
  // A plain request first, then one with evidence, then a replay of that
  // evidence (its nonce is spent by then).
  svid_v1::BatchNewX509SVIDRequest batch;
  for (int i = 0; i < 3; ++i) {
    svid_v1::NewX509SVIDParams* params = batch.add_params();
    params->set_entry_id(entry_id);
    params->set_csr(ca::testing::MakeCsr(ca::testing::NewP256Key().get()));
    if (i > 0) *params->mutable_sovereign_attestation() = workload_evidence;
  }
  grpc::ClientContext batch_context;
  svid_v1::BatchNewX509SVIDResponse issued;
  ASSERT_TRUE(svid_v1::SVID::NewStub(AgentChannel(agent))
                  ->BatchNewX509SVID(&batch_context, batch, &issued)
                  .ok());
  ASSERT_EQ(issued.results_size(), 3);
  // Without evidence: a plain SVID, no claims.
  EXPECT_EQ(issued.results(0).status().code(), 0);
  EXPECT_EQ(issued.results(0).attested_claims_size(), 0);
  EXPECT_TRUE(
      ClaimsOf(issued.results(0).svid().cert_chain(0), ca::kSovereignClaimsOid)
          .is_null());
  EXPECT_EQ(issued.results(1).status().code(), 0)
      << issued.results(1).status().message();
  ASSERT_EQ(issued.results(1).attested_claims_size(), 1);
  EXPECT_EQ(issued.results(1).attested_claims(0).host_integrity_status(),
            AttestedClaims::PASSED_ALL_CHECKS);
  const json claims =
      ClaimsOf(issued.results(1).svid().cert_chain(0), ca::kSovereignClaimsOid);
  EXPECT_EQ(claims["grc.workload"]["workload-id"],
            "spiffe://example.org/workload/a");
  EXPECT_EQ(issued.results(2).status().code(),
            static_cast<int>(grpc::StatusCode::PERMISSION_DENIED));
  EXPECT_FALSE(issued.results(2).has_svid());
  // The map keeps the last issuance to the ID (the sovereign one) and its
  // verdict.
  const json latest = Latest("spiffe://example.org/workload/a",
                             issued.results(1).svid().cert_chain(0));
  EXPECT_EQ(latest["record"]["entry_id"], entry_id);
  EXPECT_EQ(latest["record"]["agent_id"], kAgentId);
  EXPECT_EQ(latest["verdict"]["verified"], true);
}

TEST_F(SovereignTest, PhaseOneModeKeepsTheCertificatePlain) {
  Start({kSovereignFlag, kNoRateLimit, "--sovereign_claims_oid="});
  Register();
  agent_v1::AttestAgentResponse::Result result;
  AgentCredentials agent;
  ASSERT_TRUE(AttestWithEvidence(&result, &agent).ok());
  ASSERT_EQ(result.attested_claims_size(), 1);
  const std::string cert = result.svid().cert_chain(0);
  EXPECT_TRUE(ClaimsOf(cert, ca::kSovereignClaimsOid).is_null());
  EXPECT_TRUE(ClaimsOf(cert, ca::kLegacySovereignClaimsOid).is_null());
}

TEST_F(SovereignTest, LegacyOidIsSelectable) {
  Start(
      {kSovereignFlag, kNoRateLimit,
       absl::StrCat("--sovereign_claims_oid=", ca::kLegacySovereignClaimsOid)});
  Register();
  agent_v1::AttestAgentResponse::Result result;
  AgentCredentials agent;
  ASSERT_TRUE(AttestWithEvidence(&result, &agent).ok());
  const std::string cert = result.svid().cert_chain(0);
  EXPECT_TRUE(ClaimsOf(cert, ca::kSovereignClaimsOid).is_null());
  EXPECT_EQ(
      ClaimsOf(cert,
               ca::kLegacySovereignClaimsOid)["grc.workload"]["workload-id"],
      kAgentId);
}

TEST_F(SovereignTest, WithoutTheFlagSovereignFieldsAreIgnored) {
  Start({kNoRateLimit});
  auto op = grpc::CreateChannel(server_->operator_address(),
                                grpc::InsecureChannelCredentials());
  grpc::ClientContext token_context;
  agent_v1::CreateJoinTokenRequest token_request;
  token_request.set_ttl(60);
  spire::api::types::JoinToken token;
  ASSERT_TRUE(agent_v1::Agent::NewStub(op)
                  ->CreateJoinToken(&token_context, token_request, &token)
                  .ok());
  auto agents =
      agent_v1::Agent::NewStub(ca::testing::SpireChannel(spire_address_));
  // The unified_identity attestor does not exist.
  {
    grpc::ClientContext context;
    auto stream = agents->AttestAgent(&context);
    agent_v1::AttestAgentRequest request;
    request.mutable_params()->mutable_data()->set_type("unified_identity");
    request.mutable_params()->mutable_data()->set_payload(kHost);
    request.mutable_params()->mutable_params()->set_csr("csr");
    stream->Write(request);
    stream->WritesDone();
    agent_v1::AttestAgentResponse response;
    EXPECT_FALSE(stream->Read(&response));
    EXPECT_EQ(stream->Finish().error_code(),
              grpc::StatusCode::FAILED_PRECONDITION);
  }
  // A join token with (meaningless) sovereign evidence: a plain SVID.
  grpc::ClientContext context;
  auto stream = agents->AttestAgent(&context);
  agent_v1::AttestAgentRequest request;
  request.mutable_params()->mutable_data()->set_type("join_token");
  request.mutable_params()->mutable_data()->set_payload(token.value());
  request.mutable_params()->mutable_params()->set_csr(
      ca::testing::MakeCsr(ca::testing::NewP256Key().get()));
  request.mutable_params()
      ->mutable_params()
      ->mutable_sovereign_attestation()
      ->set_tpm_signed_attestation("not a quote");
  stream->Write(request);
  stream->WritesDone();
  agent_v1::AttestAgentResponse response;
  ASSERT_TRUE(stream->Read(&response));
  EXPECT_TRUE(stream->Finish().ok());
  EXPECT_EQ(response.result().attested_claims_size(), 0);
  EXPECT_TRUE(
      ClaimsOf(response.result().svid().cert_chain(0), ca::kSovereignClaimsOid)
          .is_null());
}

}  // namespace
}  // namespace trellis::testing
