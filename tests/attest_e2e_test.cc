// The attestation path end to end with real processes: trellisd (verifier,
// registrar, log), trellis-tpm on a software TPM (swtpm). A host registers,
// attests with a quote and an app key certificate over HTTPS, and the
// verdict is found in the log with a valid inclusion proof; replays and
// forgeries are refused with the failed check named, and logged too.
#include <signal.h>

#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "attest/eventlog/event_log.h"
#include "attest/ima/measurement_list.h"
#include "attest/testing/swtpm.h"
#include "attest/tpm/keys.h"
#include "attest/verifier/evidence_request.h"
#include "gmock/gmock.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "merkle/verifier.h"
#include "nlohmann/json.hpp"
#include "tests/metrics_scrape.h"
#include "tests/trellisd_process.h"
#include "trellis_attest.grpc.pb.h"
#include "trellis_attest.pb.h"
#include "trillian_log_api.grpc.pb.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using nlohmann::json;

constexpr char kTrellisTpm[] = "cmd/trellis-tpm/trellis-tpm";

class AttestE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TrellisdProcess>(dir_.path() + "/data");
    client_ = std::make_unique<httplib::SSLClient>("127.0.0.1",
                                                   server_->verifier_port());
    client_->set_ca_cert_path(server_->verifier_ca_file().c_str());
    client_->enable_server_certificate_verification(true);
  }

  CliResult Tpm(std::vector<std::string> args) {
    args.insert(args.begin(), {"--tcti=" + tpm_.tcti(),
                               "--work_dir=" + dir_.path() + "/agent"});
    return RunProgram(kTrellisTpm, args);
  }
  std::string TpmOut(std::vector<std::string> args) {
    CliResult r = Tpm(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.out;
    while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
    return r.out;
  }
  // POSTs to the verifier; returns (status, body).
  std::pair<int, json> Post(const std::string& path, const json& body) {
    auto res = client_->Post(path, body.dump(), "application/json");
    if (!res) return {-1, json()};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  void Register(const std::string& host_id,
                const std::string& ek_algorithm = "rsa") {
    const json keys =
        json::parse(TpmOut({"create-ek-ak", "--ek_algorithm=" + ek_algorithm}));
    ak_public_ = keys["ak_public"];
    ek_public_ = keys["ek_public"];
    TpmOut({"register",
            "--verifier=https://127.0.0.1:" +
                std::to_string(server_->verifier_port()),
            "--verifier_ca=" + server_->verifier_ca_file(),
            "--host_id=" + host_id});
  }
  std::string Nonce(const std::string& host_id) {
    auto [code, body] = Post("/v2.4/verify/nonce", {{"host_id", host_id}});
    EXPECT_EQ(code, 200) << body.dump();
    return body["results"]["nonce"];
  }
  // Evidence made by trellis-tpm for `nonce`.
  json Evidence(const std::string& nonce,
                const std::string& pcrs = "sha256:0,1,2,3,4,5,6,7,10") {
    const json app = json::parse(TpmOut({"generate-app-key"}));
    return {{"type", "tpm-app-key"},
            {"data",
             {{"nonce", nonce},
              {"quote", TpmOut({"generate-quote", "--nonce=" + nonce,
                                "--pcrs=" + pcrs})},
              {"hash_alg", "sha256"},
              {"app_key_public", app["app_key_public"]},
              {"app_key_certificate",
               TpmOut({"certify-app-key", "--nonce=" + nonce})},
              {"tpm_ak", ak_public_},
              {"tpm_ek", ek_public_}}},
            {"metadata",
             {{"source", "attest_e2e_test"},
              {"submission_type", "PoR/tpm-app-key"},
              {"audit_id", ""}}}};
  }
  // The record behind `audit_id`, once integrated, with its inclusion proof
  // checked against a signed root.
  trellis::AttestationRecord LoggedRecord(const json& results) {
    const int64_t log_id =
        std::stoll(results["audit_log_id"].get<std::string>());
    const std::string leaf_hash =
        absl::HexStringToBytes(results["audit_id"].get<std::string>());
    auto log = server_->LogStub();
    for (int attempt = 0; attempt < 200; ++attempt) {
      grpc::ClientContext ctx;
      trillian::GetLatestSignedLogRootRequest root_req;
      root_req.set_log_id(log_id);
      trillian::GetLatestSignedLogRootResponse root_resp;
      EXPECT_TRUE(log->GetLatestSignedLogRoot(&ctx, root_req, &root_resp).ok());
      auto root = merkle::ParseLogRoot(root_resp.signed_log_root().log_root());
      grpc::ClientContext ctx2;
      trillian::GetInclusionProofByHashRequest req;
      req.set_log_id(log_id);
      req.set_leaf_hash(leaf_hash);
      req.set_tree_size(root->tree_size);
      trillian::GetInclusionProofByHashResponse resp;
      if (root->tree_size > 0 &&
          log->GetInclusionProofByHash(&ctx2, req, &resp).ok() &&
          resp.proof_size() > 0) {
        const trillian::Proof& proof = resp.proof(0);
        std::vector<std::string> path(proof.hashes().begin(),
                                      proof.hashes().end());
        EXPECT_TRUE(merkle::VerifyInclusion(proof.leaf_index(), root->tree_size,
                                            leaf_hash, path, root->root_hash)
                        .ok());
        grpc::ClientContext ctx3;
        trillian::GetLeavesByHashRequest by_hash;
        by_hash.set_log_id(log_id);
        by_hash.add_leaf_hash(leaf_hash);
        trillian::GetLeavesByHashResponse leaves;
        EXPECT_TRUE(log->GetLeavesByHash(&ctx3, by_hash, &leaves).ok());
        trellis::AttestationRecord record;
        EXPECT_EQ(leaves.leaves_size(), 1);
        EXPECT_EQ(merkle::HashLeaf(leaves.leaves(0).leaf_value()), leaf_hash);
        EXPECT_TRUE(record.ParseFromString(leaves.leaves(0).leaf_value()));
        return record;
      }
      absl::SleepFor(absl::Milliseconds(25));
    }
    ADD_FAILURE() << "record never integrated";
    return {};
  }

  TempDir dir_;
  Swtpm tpm_;
  std::unique_ptr<TrellisdProcess> server_;
  std::unique_ptr<httplib::SSLClient> client_;
  std::string ak_public_, ek_public_;
};

TEST_F(AttestE2ETest, VerifiedAttestationIsLoggedWithAProof) {
  Register("host-a");
  const std::string nonce = Nonce("host-a");
  const json evidence = Evidence(nonce);
  auto [code, body] = Post("/v2.4/verify/evidence", evidence);
  ASSERT_EQ(code, 200) << body.dump(2);
  const json& results = body["results"];
  EXPECT_EQ(results["verified"], true);
  const json& details = results["verification_details"];
  for (const char* check :
       {"app_key_certificate_valid", "app_key_public_matches_cert",
        "quote_signature_valid", "nonce_valid", "nonce_fresh", "ak_registered",
        "pcr_digest_valid", "qualified_signer_valid"}) {
    EXPECT_EQ(details[check], true) << check;
  }
  EXPECT_GT(details["timestamp"].get<int64_t>(), 1700000000);
  EXPECT_EQ(results["attested_claims"]["host_integrity_status"],
            "passed_all_checks");
  const trellis::AttestationRecord record = LoggedRecord(results);
  EXPECT_TRUE(record.verified());
  EXPECT_EQ(record.host_id(), "host-a");
  EXPECT_EQ(record.nonce(), absl::HexStringToBytes(nonce));
  EXPECT_EQ(record.host_integrity_status(), "PASSED_ALL_CHECKS");
  EXPECT_EQ(record.attest_digest().size(), 32u);
  // Operators see the verdict and its checks in the metrics.
  const json scrape = ScrapeMetrics(server_->metrics_port());
  EXPECT_EQ(MetricSum(scrape, "trellis_attestation_verdicts_total",
                      {{"status", "PASSED_ALL_CHECKS"}}),
            1);
  EXPECT_EQ(
      MetricSum(scrape, "trellis_attestation_checks_total",
                {{"check", "quote_signature_valid"}, {"outcome", "passed"}}),
      1);
  EXPECT_EQ(MetricSum(scrape, "trellis_attestation_checks_total",
                      {{"outcome", "failed"}}),
            0);

  // An auditor: the record with its proof, and an offline replay that
  // reaches the logged verdict.
  const std::string addr = "--addr=" + server_->address();
  const std::string audit_id = results["audit_id"];
  CliResult show = RunCli({addr, "audit", "show", audit_id});
  ASSERT_EQ(show.exit_code, 0) << show.out;
  const json shown = json::parse(show.out);
  EXPECT_EQ(shown["proofVerified"], true);
  EXPECT_EQ(shown["record"]["verified"], true);
  EXPECT_EQ(shown["record"]["host_id"], "host-a");
  const std::vector<std::string> verifier = {
      "--verifier=https://127.0.0.1:" +
          std::to_string(server_->verifier_port()),
      "--verifier_ca=" + server_->verifier_ca_file()};
  std::vector<std::string> replay = {addr, "audit", "replay", audit_id};
  replay.insert(replay.end(), verifier.begin(), verifier.end());
  CliResult replayed = RunCli(replay);
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out;
  EXPECT_EQ(json::parse(replayed.out)["agrees"], true);
  EXPECT_EQ(json::parse(replayed.out)["replayedVerified"], true);
  EXPECT_EQ(RunCli({addr, "audit", "show", std::string(64, '0')}).exit_code, 1);
  EXPECT_EQ(RunCli({addr, "audit", "show", "xyz"}).exit_code, 2);
  // An unreachable verifier gives no verdict: unusable (2), not invalid.
  EXPECT_EQ(RunCli({addr, "audit", "replay", audit_id,
                    "--verifier=https://127.0.0.1:1",
                    "--verifier_ca=" + server_->verifier_ca_file()})
                .exit_code,
            2);

  // The same evidence again: the nonce is spent. Refused, named, logged.
  auto [again, again_body] = Post("/v2.4/verify/evidence", evidence);
  EXPECT_EQ(again, 422);
  EXPECT_EQ(again_body["results"]["failed_check"], "nonce_fresh");
  EXPECT_EQ(again_body["results"]["verified"], false);
  const trellis::AttestationRecord refused =
      LoggedRecord(again_body["results"]);
  EXPECT_FALSE(refused.verified());
  EXPECT_EQ(refused.host_integrity_status(), "FAILED");
  EXPECT_NE(again_body["results"]["audit_id"], results["audit_id"]);
  // Its replay reaches the same (failed) verdict: nonce freshness is taken
  // from the record, everything else re-run.
  replay[3] = again_body["results"]["audit_id"];
  replayed = RunCli(replay);
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out;
  EXPECT_EQ(json::parse(replayed.out)["replayedVerified"], false);
}

TEST_F(AttestE2ETest, HostWithAnEccEkRegistersAndAttests) {
  Register("host-ecc", "ecc");
  auto [code, body] =
      Post("/v2.4/verify/evidence", Evidence(Nonce("host-ecc")));
  EXPECT_EQ(code, 200) << body.dump(2);
}

TEST_F(AttestE2ETest, ForgedEvidenceIsRefusedWithTheCheckNamed) {
  Register("host-b");
  // A nonce this verifier never issued.
  json evidence = Evidence(std::string(64, 'a'));
  auto [code, body] = Post("/v2.4/verify/evidence", evidence);
  EXPECT_EQ(code, 422);
  EXPECT_EQ(body["results"]["failed_check"], "nonce_fresh");

  // The quote for one nonce, submitted with another issued nonce.
  const std::string issued = Nonce("host-b");
  evidence = Evidence(Nonce("host-b"));
  evidence["data"]["nonce"] = issued;
  std::tie(code, body) = Post("/v2.4/verify/evidence", evidence);
  EXPECT_EQ(code, 422);
  EXPECT_EQ(body["results"]["verification_details"]["nonce_valid"], false);

  // An app key that the certificate does not certify.
  evidence = Evidence(Nonce("host-b"));
  const std::string other_app =
      json::parse(TpmOut({"generate-app-key"}))["app_key_public"];
  evidence["data"]["app_key_public"] = other_app;
  std::tie(code, body) = Post("/v2.4/verify/evidence", evidence);
  EXPECT_EQ(code, 422);
  EXPECT_EQ(body["results"]["failed_check"], "app_key_public_matches_cert");

  // An AK nobody registered.
  evidence = Evidence(Nonce("host-b"));
  const json other = json::parse(TpmOut({"create-ek-ak"}));
  evidence["data"]["tpm_ak"] = other["ak_public"];
  std::tie(code, body) = Post("/v2.4/verify/evidence", evidence);
  EXPECT_EQ(code, 422);
  EXPECT_EQ(body["results"]["failed_check"], "ak_registered");
  // Refused without being stored or logged: no audit id to look up.
  EXPECT_FALSE(body["results"].contains("audit_id")) << body.dump(2);

  const json scrape = ScrapeMetrics(server_->metrics_port());
  EXPECT_EQ(MetricSum(scrape, "trellis_attestation_verdicts_total",
                      {{"status", "refused"}}),
            1);
  EXPECT_EQ(MetricSum(scrape, "trellis_attestation_verdicts_total",
                      {{"status", "PASSED_ALL_CHECKS"}}),
            0);
  // Every check of every verdict counts, so a forgery fails several.
  EXPECT_GE(MetricSum(scrape, "trellis_attestation_checks_total",
                      {{"check", "app_key_public_matches_cert"},
                       {"outcome", "failed"}}),
            1);
  EXPECT_GE(MetricSum(scrape, "trellis_attestation_checks_total",
                      {{"check", "nonce_valid"}, {"outcome", "failed"}}),
            1);
}

TEST_F(AttestE2ETest, UnusableRequestsAre400AndUnknownHosts404) {
  Register("host-c");
  json evidence = Evidence(Nonce("host-c"));
  for (const char* field : {"nonce", "quote", "tpm_ak", "app_key_public"}) {
    json bad = evidence;
    bad["data"].erase(field);
    EXPECT_EQ(Post("/v2.4/verify/evidence", bad).first, 400) << field;
  }
  json bad = evidence;
  bad["type"] = "something-else";
  EXPECT_EQ(Post("/v2.4/verify/evidence", bad).first, 400);
  bad = evidence;
  bad["data"]["hash_alg"] = "md5";
  EXPECT_EQ(Post("/v2.4/verify/evidence", bad).first, 400);
  auto res =
      client_->Post("/v2.4/verify/evidence", "{oops", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(Post("/v2.4/verify/nonce", {{"host_id", "nobody"}}).first, 404);
  EXPECT_EQ(Post("/v2.4/registrar/activate",
                 {{"host_id", "host-c"}, {"secret", "AAAA"}})
                .first,
            200);  // Already active: activation is idempotent.
  EXPECT_EQ(Post("/v2.4/registrar/register", {{"host_id", "x"}}).first, 400);
}

// Extends `pcr` of the swtpm's SHA-256 bank, as firmware or the kernel would.
void Extend(Swtpm& tpm, int pcr, const std::string& digest) {
  std::string out;
  ASSERT_EQ(tpm.RunTools(absl::StrCat("tpm2_pcrextend ", pcr, ":sha256=",
                                      absl::BytesToHexString(digest)),
                         &out),
            0)
      << out;
}

TEST_F(AttestE2ETest, PolicyDecidesOnImaBootLogAndBindsClaims) {
  Register("host-p");
  // The host's boot: an event log replayed into PCRs 0-7.
  std::vector<attest::eventlog::Event> events;
  for (uint32_t pcr = 0; pcr < 8; ++pcr) {
    attest::eventlog::Event e;
    e.pcr = pcr;
    e.type = 0x80000003;
    e.data = absl::StrCat("firmware component ", pcr);
    e.digests[TPM2_ALG_SHA256] = *attest::tpm::TpmHash(TPM2_ALG_SHA256, e.data);
    Extend(tpm_, pcr, e.digests[TPM2_ALG_SHA256]);
    events.push_back(e);
  }
  const std::string boot_log = absl::Base64Escape(
      attest::eventlog::Serialize({TPM2_ALG_SHA256}, events));
  // Its runtime: IMA measurements extended into PCR 10.
  std::vector<attest::ima::Entry> ima;
  json allowlist = json::object();
  for (int i = 0; i < 20; ++i) {
    const std::string path = absl::StrCat("/usr/bin/app", i);
    const std::string digest =
        *attest::tpm::TpmHash(TPM2_ALG_SHA256, path + " contents");
    ima.push_back(attest::ima::MakeImaNgEntry(path, digest));
    allowlist[path] = {absl::BytesToHexString(digest)};
  }
  ima.push_back(attest::ima::MakeImaNgEntry(
      "/tmp/scratch", *attest::tpm::TpmHash(TPM2_ALG_SHA256, "scratch")));
  auto extend_ima = [&](const attest::ima::Entry& e) {
    Extend(tpm_, 10, *attest::tpm::TpmHash(TPM2_ALG_SHA256, e.template_data));
  };
  for (const auto& e : ima) extend_ima(e);
  auto ima_text = [&] {
    std::string text;
    for (const auto& e : ima) text += attest::ima::FormatAscii(e) + "\n";
    return text;
  };
  // Its location, bound into PCR 15.
  const std::string geo =
      attest::CanonicalGeolocation("Spain", 40.4168, -3.7038);
  Extend(tpm_, 15, *attest::tpm::TpmHash(TPM2_ALG_SHA256, geo));

  // The operator's policy, through the CLI.
  const std::string policy_file = dir_.path() + "/policy.json";
  const std::string policy_text = json{
      {"ima", {{"digests", allowlist}, {"excludes", {"/tmp/.*"}}}},
      {"require_ima", true},
      {"require_measured_boot", true},
      {"geolocation_pcr", 15}}.dump();
  std::ofstream(policy_file) << policy_text;
  const std::vector<std::string> verifier = {
      "--verifier=https://127.0.0.1:" +
          std::to_string(server_->verifier_port()),
      "--verifier_ca=" + server_->verifier_ca_file()};
  // Policies are operators' business: refused over the attestors' HTTPS
  // API and the gRPC port, accepted over the operator socket.
  auto res =
      client_->Put("/v2.4/policies/default", policy_text, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  CliResult refused =
      RunCli({"policy", "put", "default", policy_file,
              "--addr=127.0.0.1:" + std::to_string(server_->port())});
  EXPECT_EQ(refused.exit_code, 1) << refused.out;
  CliResult stored = RunCli({"policy", "put", "default", policy_file,
                             "--addr=" + server_->operator_address()});
  ASSERT_EQ(stored.exit_code, 0) << stored.out;
  EXPECT_EQ(json::parse(stored.out)["version"], 1);

  const std::string pcrs = "sha256:0,1,2,3,4,5,6,7,10,15";
  json evidence = Evidence(Nonce("host-p"), pcrs);
  evidence["data"]["ima_measurement_list"] = ima_text();
  evidence["data"]["mb_measurement_list"] = boot_log;
  evidence["data"]["geolocation"] = json::parse(geo);
  evidence["data"]["gpu_metrics"] = {
      {"status", "healthy"}, {"utilization_pct", 45.2}, {"memory_mb", 8192}};
  auto [code, body] = Post("/v2.4/verify/evidence", evidence);
  ASSERT_EQ(code, 200) << body.dump(2);
  const json& results = body["results"];
  for (const char* check :
       {"event_log_valid", "ima_pcr_valid", "ima_allowlist_valid"}) {
    EXPECT_EQ(results["verification_details"][check], true) << check;
  }
  const json& claims = results["attested_claims"];
  EXPECT_EQ(claims["geolocation"], "Spain: N40.4168, W3.7038");
  EXPECT_EQ(claims["geolocation_details"]["tpm_attested"], true);
  EXPECT_EQ(claims["gpu_metrics_health"]["status"], "healthy");
  EXPECT_EQ(claims["gpu_metrics_health"]["tpm_attested"], false);
  EXPECT_EQ(claims["host_integrity_status"], "passed_all_checks");

  // A file outside the allowlist runs: PARTIAL, refused under this policy.
  ima.push_back(attest::ima::MakeImaNgEntry(
      "/opt/rootkit", *attest::tpm::TpmHash(TPM2_ALG_SHA256, "evil")));
  extend_ima(ima.back());
  evidence = Evidence(Nonce("host-p"), pcrs);
  evidence["data"]["ima_measurement_list"] = ima_text();
  evidence["data"]["mb_measurement_list"] = boot_log;
  std::tie(code, body) = Post("/v2.4/verify/evidence", evidence);
  EXPECT_EQ(code, 422);
  EXPECT_EQ(body["results"]["failed_check"], "ima_allowlist_valid");
  EXPECT_EQ(body["results"]["attested_claims"]["host_integrity_status"],
            "partial");
  // Its replay agrees, with the policy version it was decided by.
  EXPECT_EQ(LoggedRecord(body["results"]).policy_version(), 1);
  std::vector<std::string> replay = {"--addr=" + server_->address(), "audit",
                                     "replay", body["results"]["audit_id"]};
  replay.insert(replay.end(), verifier.begin(), verifier.end());
  CliResult replayed = RunCli(replay);
  ASSERT_EQ(replayed.exit_code, 0) << replayed.out;
  EXPECT_EQ(json::parse(replayed.out)["agrees"], true);

  // A boot log that does not replay to the quoted PCRs.
  ima.pop_back();
  events[3].digests[TPM2_ALG_SHA256][0] ^= 1;
  evidence = Evidence(Nonce("host-p"), pcrs);
  evidence["data"]["ima_measurement_list"] = ima_text();
  evidence["data"]["mb_measurement_list"] = absl::Base64Escape(
      attest::eventlog::Serialize({TPM2_ALG_SHA256}, events));
  std::tie(code, body) = Post("/v2.4/verify/evidence", evidence);
  EXPECT_EQ(code, 422);
  EXPECT_EQ(body["results"]["verification_details"]["event_log_valid"], false);

  // A location the host did not bind is reported, marked unattested.
  evidence = Evidence(Nonce("host-p"), pcrs);
  evidence["data"]["ima_measurement_list"] = ima_text();
  evidence["data"]["mb_measurement_list"] = boot_log;
  evidence["data"]["geolocation"] = {
      {"country", "France"}, {"latitude", 48.85}, {"longitude", 2.35}};
  // (The IMA list now lacks the rootkit entry the TPM saw: PCR 10 fails.)
  std::tie(code, body) = Post("/v2.4/verify/evidence", evidence);
  EXPECT_EQ(
      body["results"]["attested_claims"]["geolocation_details"]["tpm_attested"],
      false);
  // Claims out of range are refused outright.
  evidence["data"]["gpu_metrics"] = {
      {"status", "healthy"}, {"utilization_pct", 145}, {"memory_mb", 1}};
  EXPECT_EQ(Post("/v2.4/verify/evidence", evidence).first, 400);
  evidence["data"].erase("gpu_metrics");
  evidence["data"]["geolocation"]["latitude"] = 91;
  EXPECT_EQ(Post("/v2.4/verify/evidence", evidence).first, 400);
}

TEST_F(AttestE2ETest, GrpcVerifierGivesTheSameVerdicts) {
  Register("host-g");
  auto verifier = trellis::AttestationVerifier::NewStub(server_->Channel());
  trellis::IssueNonceRequest nonce_request;
  nonce_request.set_host_id("host-g");
  trellis::IssueNonceResponse nonce;
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(verifier->IssueNonce(&ctx, nonce_request, &nonce).ok());
  }
  EXPECT_EQ(nonce.nonce().size(), 32u);
  const json body = Evidence(absl::BytesToHexString(nonce.nonce()));
  trellis::VerifyEvidenceRequest request;
  trellis::TpmAppKeyEvidence* e = request.mutable_evidence();
  e->set_nonce(nonce.nonce());
  e->set_quote(body["data"]["quote"]);
  e->set_hash_alg("sha256");
  e->set_app_key_public(body["data"]["app_key_public"]);
  e->set_app_key_certificate(body["data"]["app_key_certificate"]);
  std::string ak;
  absl::Base64Unescape(ak_public_, &ak);
  e->set_tpm_ak(ak);
  request.set_source("attest_e2e_test");
  trellis::VerifyEvidenceResponse response;
  {
    grpc::ClientContext ctx;
    grpc::Status s = verifier->VerifyEvidence(&ctx, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_TRUE(response.verified()) << response.failed_check();
  EXPECT_EQ(response.host_integrity_status(), "PASSED_ALL_CHECKS");
  EXPECT_EQ(response.audit_leaf_hash().size(), 32u);
  EXPECT_GT(response.checks_size(), 10);
  // Replayed: the nonce is spent; a verdict, not an error.
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(verifier->VerifyEvidence(&ctx, request, &response).ok());
  }
  EXPECT_FALSE(response.verified());
  EXPECT_EQ(response.failed_check(), "nonce_fresh");
  // Policies over gRPC: operators only (the operator socket), versioned,
  // validated.
  trellis::PutPolicyRequest put;
  put.set_id("grpc-policy");
  put.set_policy_json(R"({"require_ima": true})");
  trellis::Policy stored;
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(verifier->PutPolicy(&ctx, put, &stored).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  const std::unique_ptr<trellis::AttestationVerifier::Stub> attestor =
      std::move(verifier);
  verifier = trellis::AttestationVerifier::NewStub(grpc::CreateChannel(
      server_->operator_address(), grpc::InsecureChannelCredentials()));
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(verifier->PutPolicy(&ctx, put, &stored).ok());
  }
  EXPECT_EQ(stored.version(), 1);
  EXPECT_EQ(stored.digest().size(), 32u);
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(verifier->PutPolicy(&ctx, put, &stored).ok());
  }
  EXPECT_EQ(stored.version(), 2);
  trellis::GetPolicyRequest get;
  get.set_id("grpc-policy");
  get.set_version(1);
  {
    grpc::ClientContext ctx;
    ASSERT_TRUE(verifier->GetPolicy(&ctx, get, &stored).ok());
  }
  EXPECT_EQ(stored.version(), 1);
  EXPECT_EQ(stored.policy_json(), put.policy_json());
  put.set_policy_json(R"({"require_ima": "yes"})");
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(verifier->PutPolicy(&ctx, put, &stored).error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
  }
  get.set_id("no-such-policy");
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(verifier->GetPolicy(&ctx, get, &stored).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  // Unusable requests and unknown hosts are errors with their codes.
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(
        verifier
            ->VerifyEvidence(&ctx, trellis::VerifyEvidenceRequest(), &response)
            .error_code(),
        grpc::StatusCode::INVALID_ARGUMENT);
  }
  {
    grpc::ClientContext ctx;
    nonce_request.set_host_id("nobody");
    EXPECT_EQ(verifier->IssueNonce(&ctx, nonce_request, &nonce).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  // Removing a host is an operator's call too.
  trellis::RemoveHostRequest remove;
  remove.set_host_id("host-g");
  trellis::RemoveHostResponse removed;
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(attestor->RemoveHost(&ctx, remove, &removed).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }
  {
    grpc::ClientContext ctx;
    EXPECT_TRUE(verifier->RemoveHost(&ctx, remove, &removed).ok());
  }
  {
    grpc::ClientContext ctx;
    EXPECT_EQ(verifier->RemoveHost(&ctx, remove, &removed).error_code(),
              grpc::StatusCode::NOT_FOUND);
  }
  EXPECT_EQ(Post("/v2.4/verify/nonce", {{"host_id", "host-g"}}).first, 404);
}

TEST(AttestMtlsTest, VerifierRequiresClientCertificatesWhenConfigured) {
  signal(SIGPIPE, SIG_IGN);  // The refused handshake closes on the client.
  TempDir dir;
  const std::string d = dir.path();
  // A client CA and a client certificate it signed.
  const std::string commands =
      "cd " + d +
      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
      "-nodes -subj /CN=clients -days 1 -keyout ca.key -out ca.pem "
      "&& openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-subj /CN=spire-server -keyout client.key -out client.csr "
      "&& openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -days 1 -out client.pem";
  ASSERT_EQ(std::system((commands + " 2>/dev/null").c_str()), 0);
  TrellisdProcess server(d + "/data",
                         {"--verifier_client_ca=" + d + "/ca.pem"});
  {
    httplib::SSLClient anonymous("127.0.0.1", server.verifier_port());
    anonymous.set_ca_cert_path(server.verifier_ca_file().c_str());
    anonymous.enable_server_certificate_verification(true);
    EXPECT_FALSE(anonymous.Get("/v2.4/audit/log"));  // Handshake refused.
  }
  httplib::SSLClient client("127.0.0.1", server.verifier_port(),
                            d + "/client.pem", d + "/client.key");
  client.set_ca_cert_path(server.verifier_ca_file().c_str());
  client.enable_server_certificate_verification(true);
  auto res = client.Get("/v2.4/audit/log");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(AttestE2ETest, RegistrationsSurviveARestart) {
  Register("host-d");
  server_->Stop();
  server_ = std::make_unique<TrellisdProcess>(dir_.path() + "/data");
  client_ = std::make_unique<httplib::SSLClient>("127.0.0.1",
                                                 server_->verifier_port());
  client_->set_ca_cert_path(server_->verifier_ca_file().c_str());
  client_->enable_server_certificate_verification(true);
  auto [code, body] = Post("/v2.4/verify/evidence", Evidence(Nonce("host-d")));
  EXPECT_EQ(code, 200) << body.dump(2);
}

// trellis-tpm attest: one command from a fresh TPM to a logged verdict.
TEST_F(AttestE2ETest, OneCommandAttestsAFreshHostAndSaysWhy) {
  const std::vector<std::string> verifier = {
      "attest",
      "--verifier=https://127.0.0.1:" +
          std::to_string(server_->verifier_port()),
      "--verifier_ca=" + server_->verifier_ca_file(), "--host_id=web-1"};
  auto attest = [&](std::vector<std::string> more) {
    std::vector<std::string> args = verifier;
    args.insert(args.end(), more.begin(), more.end());
    return Tpm(args);
  };
  // No keys, not registered: made, registered, attested, in one step.
  CliResult first = attest({});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  EXPECT_THAT(first.out, ::testing::StartsWith("web-1: VERIFIED\n"));
  EXPECT_THAT(first.out, ::testing::HasSubstr("first: made an EK and an AK"));
  EXPECT_THAT(first.out,
              ::testing::HasSubstr("first: registered the TPM as web-1"));
  EXPECT_THAT(first.out,
              ::testing::HasSubstr("  ok    quote_signature_valid\n"));
  EXPECT_THAT(first.out, ::testing::HasSubstr("  ok    nonce_fresh\n"));
  EXPECT_THAT(first.out,
              ::testing::ContainsRegex("audit: [0-9a-f]{64} in log"));

  // Again, as JSON: nothing to set up; the verdict is in the log.
  CliResult second = attest({"--json"});
  ASSERT_EQ(second.exit_code, 0) << second.out << second.err;
  const json verdict = json::parse(second.out, nullptr, false);
  ASSERT_TRUE(verdict.is_object()) << second.out;
  EXPECT_EQ(verdict["verified"], true);
  EXPECT_EQ(verdict["steps"], json::array());
  EXPECT_EQ(verdict["results"]["verification_details"]["ak_registered"], true);
  const trellis::AttestationRecord record = LoggedRecord(verdict["results"]);
  EXPECT_TRUE(record.verified());

  // IMA: two programs ran, the policy allows one. The verdict says which
  // check failed, with the verifier's reason, and the exit status is 1.
  std::string ima;
  for (const char* path : {"/usr/bin/allowed", "/usr/bin/unknown"}) {
    const attest::ima::Entry entry = attest::ima::MakeImaNgEntry(
        path, *attest::tpm::TpmHash(TPM2_ALG_SHA256, path));
    Extend(tpm_, 10,
           *attest::tpm::TpmHash(TPM2_ALG_SHA256, entry.template_data));
    ima += attest::ima::FormatAscii(entry) + "\n";
  }
  const std::string ima_file = dir_.path() + "/ima.txt";
  std::ofstream(ima_file) << ima;
  const std::string policy_file = dir_.path() + "/policy.json";
  std::ofstream(policy_file) << json{
      {"ima",
       {{"digests",
         {{"/usr/bin/allowed",
           {absl::BytesToHexString(*attest::tpm::TpmHash(
               TPM2_ALG_SHA256, "/usr/bin/allowed"))}}}}}},
      {"require_ima", true}}.dump();
  ASSERT_EQ(RunCli({"policy", "put", "default", policy_file,
                    "--addr=" + server_->operator_address()})
                .exit_code,
            0);
  // Its location, bound into PCR 15 by the host.
  Extend(
      tpm_, 15,
      *attest::tpm::TpmHash(TPM2_ALG_SHA256, attest::CanonicalGeolocation(
                                                 "Spain", 40.4168, -3.7038)));
  CliResult refused =
      attest({"--ima=" + ima_file, "--geolocation=Spain,40.4168,-3.7038"});
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_THAT(refused.out, ::testing::StartsWith("web-1: NOT VERIFIED ("));
  EXPECT_THAT(refused.out, ::testing::HasSubstr("  ok    ima_pcr_valid\n"));
  EXPECT_THAT(refused.out,
              ::testing::ContainsRegex("  FAIL  ima_allowlist_valid: [^\n]*"
                                       "/usr/bin/unknown"));
  EXPECT_THAT(refused.out,
              ::testing::HasSubstr("(bound in PCR 15 and quoted)"));
  EXPECT_THAT(refused.out, ::testing::ContainsRegex("audit: [0-9a-f]{64}"))
      << "failed verdicts are logged too";

  // Mistakes: usage (2) before any TPM work, unreadable files (1).
  EXPECT_EQ(Tpm({"attest", "--verifier=https://127.0.0.1:1"}).exit_code, 2);
  CliResult bad_geo = attest({"--geolocation=Spain"});
  EXPECT_EQ(bad_geo.exit_code, 2);
  EXPECT_THAT(bad_geo.err, ::testing::HasSubstr("COUNTRY,LATITUDE,LONGITUDE"));
  CliResult no_file = attest({"--ima=" + dir_.path() + "/none"});
  EXPECT_EQ(no_file.exit_code, 1);
  EXPECT_THAT(no_file.err, ::testing::HasSubstr("cannot read"));
  CliResult unknown = RunProgram(kTrellisTpm, {"atest"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, ::testing::HasSubstr("unknown command \"atest\""));
}

}  // namespace
}  // namespace trellis::testing
