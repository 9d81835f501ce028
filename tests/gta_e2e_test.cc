// The GTA service API of a real trellisd over HTTPS: challenge nonces and
// the policy lifecycle with GTA's limits, status codes and error bodies,
// User-Id scoping, every change in the "trellis-gta" log, and policies that
// survive a restart.
#include <sys/wait.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "attest/eventlog/event_log.h"
#include "attest/host/tpm_device.h"
#include "attest/ima/measurement_list.h"
#include "attest/testing/swtpm.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "crypto/digest.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "merkle/log_root.h"
#include "nlohmann/json.hpp"
#include "tests/trellisd_process.h"
#include "trellis_gta.pb.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using nlohmann::json;

constexpr char kPrefix[] = "/global-trust-authority/service/v1";

// The API document's example policy (section 3.4.1), as uploaded.
constexpr char kDocumentPolicyRego[] = R"(package verification

is_log_valid = valid {
    some i
    logs := input.evidence.logs
    logs[i].log_type == "ImaLog"
    valid := logs[i].is_log_valid
}

pcr_present {
    all := {x | x := [10][_] }
    measured := {pcr.pcr_index | pcr := input.evidence.pcrs.pcr_values[_]}
    all_pcrs_subset := all - measured
    count(all_pcrs_subset) == 0
}

default attestation_valid = false
attestation_valid {
    is_log_valid == true
    pcr_present
}

result = {
    "policy_matched": attestation_valid,
    "custom_data": {
        "hash_alg": input.evidence.pcrs.hash_alg
    }
}
)";

class GtaTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }

  void Start(std::vector<std::string> flags = {}) {
    trellisd_ = std::make_unique<TrellisdProcess>(dir_.path() + "/trellisd",
                                                  std::move(flags));
    client_ = std::make_unique<httplib::SSLClient>("127.0.0.1",
                                                   trellisd_->gta_port());
    client_->set_ca_cert_path(trellisd_->gta_ca_file().c_str());
    client_->enable_server_certificate_verification(true);
    // Policy uploads start sandbox workers; on a loaded machine that can
    // take longer than httplib's 5 s default.
    client_->set_read_timeout(30, 0);
  }

  struct Reply {
    int status = 0;
    json body;
  };
  Reply Call(const std::string& method, const std::string& path,
             const std::string& body, const std::string& user = "alice",
             const std::string& api_key = "") {
    httplib::Headers headers;
    if (!user.empty()) headers.emplace("User-Id", user);
    if (!api_key.empty()) headers.emplace("API-Key", api_key);
    const std::string url = absl::StrCat(kPrefix, path);
    httplib::Result r =
        method == "GET" ? client_->Get(url.c_str(), headers)
        : method == "POST"
            ? client_->Post(url.c_str(), headers, body, "application/json")
        : method == "PUT"
            ? client_->Put(url.c_str(), headers, body, "application/json")
            : client_->Delete(url.c_str(), headers, body, "application/json");
    Reply reply;
    if (!r) {
      ADD_FAILURE() << method << " " << path << ": "
                    << httplib::to_string(r.error());
      return reply;
    }
    reply.status = r->status;
    reply.body = json::parse(r->body, nullptr, false);
    return reply;
  }

  json NewPolicy(const std::string& name) {
    return {{"name", name},
            {"description", "from the API document"},
            {"attester_type", {"tpm_ima"}},
            {"content_type", "text"},
            {"content", absl::Base64Escape(kDocumentPolicyRego)},
            {"is_default", true}};
  }

  // A test PKI in <dir>/pki (gta/testdata/make_pki.py); with an AK's
  // TPM2B_PUBLIC, also that AK's certificate from the intermediate CA.
  std::string MakePki(const std::string& ak_public_area = "") {
    const std::string pki = dir_.path() + "/pki";
    mkdir(pki.c_str(), 0700);
    std::string args = pki;
    if (!ak_public_area.empty()) {
      EXPECT_TRUE(
          ReplaceFile(pki + "/ak_pub.pem",
                      attest::tpm::ToPem(
                          attest::tpm::ParsePublic(ak_public_area).value())
                          .value(),
                      0600)
              .ok());
      absl::StrAppend(&args, " ", pki, "/ak_pub.pem");
    }
    EXPECT_EQ(std::system(absl::StrCat("/usr/bin/python3 "
                                       "gta/testdata/make_pki.py ",
                                       args, " 2>/dev/null")
                              .c_str()),
              0);
    return pki;
  }
  std::string Pem(const std::string& file) {
    return ReadFile(dir_.path() + "/pki/" + file).value();
  }
  // Uploads a certificate (or, with type "crl", a CRL) from the PKI.
  Reply AddCert(const std::string& name, const std::string& type,
                const std::string& file) {
    return Call("POST", "/cert",
                json{{"name", name},
                     {"type", {type}},
                     {type == "crl" ? "crl_content" : "content", Pem(file)}}
                    .dump());
  }
  // The id of the trellis-gta log tree (0 if there is none).
  int64_t GtaLogId() {
    auto admin = trellisd_->AdminStub();
    grpc::ClientContext context;
    trillian::ListTreesResponse trees;
    EXPECT_TRUE(admin->ListTrees(&context, {}, &trees).ok());
    for (const auto& tree : trees.tree()) {
      if (tree.display_name() == "trellis-gta") return tree.tree_id();
    }
    return 0;
  }

  TempDir dir_;
  std::unique_ptr<TrellisdProcess> trellisd_;
  std::unique_ptr<httplib::SSLClient> client_;
};

TEST_F(GtaTest, ChallengeGivesSignedNonces) {
  Reply r = Call(
      "POST", "/challenge",
      json{{"agent_version", "1.0"}, {"attester_type", {"tpm_boot"}}}.dump());
  ASSERT_EQ(r.status, 200) << r.body.dump();
  EXPECT_EQ(r.body["service_version"], "1.0");
  const json& nonce = r.body["nonce"];
  EXPECT_TRUE(nonce["iat"].is_number_integer());
  EXPECT_LE(
      std::abs(nonce["iat"].get<int64_t>() - absl::ToUnixSeconds(absl::Now())),
      5);
  std::string value, signature;
  ASSERT_TRUE(absl::Base64Unescape(nonce["value"].get<std::string>(), &value));
  EXPECT_EQ(value.size(), 64u);
  ASSERT_TRUE(
      absl::Base64Unescape(nonce["signature"].get<std::string>(), &signature));
  EXPECT_EQ(signature.size(), 384u);  // RSA-3072.
  // Each challenge gets its own value.
  Reply again =
      Call("POST", "/challenge", json{{"attester_type", {"tpm_ima"}}}.dump());
  ASSERT_EQ(again.status, 200);
  EXPECT_NE(again.body["nonce"]["value"], nonce["value"]);

  r = Call("POST", "/challenge", json{{"attester_type", {"virt_cca"}}}.dump());
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body["message"], "Required plugins not found");
  EXPECT_EQ(r.body["service_version"], "1.0");
  EXPECT_EQ(Call("POST", "/challenge",
                 json{{"attester_type", {"tpm_boot"}}}.dump(), "")
                .status,
            400);
  EXPECT_EQ(Call("POST", "/challenge", "{not json").status, 400);
  // Bodies nested deeply enough to exhaust a stack are refused up front.
  const std::string deep = "{\"measurements\":" + std::string(100000, '[') +
                           std::string(100000, ']') + "}";
  EXPECT_EQ(Call("POST", "/attest", deep).status, 400);
  EXPECT_EQ(Call("POST", "/policy", deep).status, 400);
  // Registrations are rate limited per client.
  int limited = 0;
  for (int i = 0; i < 20; ++i) {
    limited += Call("GET", "/register", "", "").status == 429;
  }
  EXPECT_GT(limited, 0);
  EXPECT_EQ(
      Call("POST", "/challenge", json{{"attester_type", "tpm_boot"}}.dump())
          .status,
      400);
}

// A policy that allocates without bound or loops for ever is refused at
// upload; it costs a sandbox worker, never trellisd (it used to abort it).
TEST_F(GtaTest, RunawayPoliciesAreRefusedAndTrellisdStaysUp) {
  json hungry = NewPolicy("hungry");
  hungry["content"] = absl::Base64Escape(
      "package verification\n"
      "result := {\"policy_matched\": count(numbers.range(0, 1e12)) > 0}\n");
  Reply refused = Call("POST", "/policy", hungry.dump());
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(
      refused.body.value("message", "").rfind("Policy evaluation failed", 0),
      0u)
      << refused.body.dump();
  json slow = NewPolicy("slow");
  slow["content"] = absl::Base64Escape(
      "package verification\n"
      "result := {\"policy_matched\": count({1 | numbers.range(0, 100000)[_]; "
      "numbers.range(0, 100000)[_]}) > 0}\n");
  refused = Call("POST", "/policy", slow.dump());
  EXPECT_EQ(refused.status, 400);
  EXPECT_NE(refused.body.value("message", "").find("ran longer than 1s"),
            std::string::npos)
      << refused.body.dump();
  EXPECT_EQ(waitpid(trellisd_->pid(), nullptr, WNOHANG), 0);
  EXPECT_EQ(Call("POST", "/policy", NewPolicy("fine").dump()).status, 200);
  EXPECT_EQ(Call("GET", "/policy", "").body["policies"].size(), 1u);
}

// Past --gta_rate_limit requests a second from one client address: 429
// with Retry-After and a message, on user routes and token/verify alike;
// the bucket refills.
TEST_F(GtaTest, RateLimitedBeyondTheConfiguredRate) {
  EXPECT_EQ(trellisd_->Stop(), 0);
  // 1 a second (a burst of 2): slow enough that the bucket cannot refill
  // between the calls below on a loaded machine.
  Start({"--gta_rate_limit=1"});
  int limited = 0;
  for (int i = 0; i < 30; ++i) {
    httplib::Result r = client_->Get(absl::StrCat(kPrefix, "/policy").c_str(),
                                     {{"User-Id", "alice"}});
    ASSERT_TRUE(r);
    if (r->status == 429) {
      ++limited;
      EXPECT_EQ(r->get_header_value("Retry-After"), "1");
      EXPECT_NE(json::parse(r->body).value("message", "").find("too many"),
                std::string::npos);
    } else {
      EXPECT_EQ(r->status, 200);
    }
  }
  // A burst of 2, then 1 a second: nearly all of 30 quick calls are refused.
  EXPECT_GE(limited, 20);
  EXPECT_EQ(
      Call("POST", "/token/verify", json{{"token", "x.y.z"}}.dump()).status,
      429);
  // The bucket refills with time.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  int status = 0;
  while ((status = Call("GET", "/policy", "").status) == 429 &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(GtaTest, PolicyLifecycleWithLimitsScopingAndLog) {
  Reply added = Call("POST", "/policy", NewPolicy("ima-policy").dump());
  ASSERT_EQ(added.status, 200) << added.body.dump();
  const std::string id = added.body["policy"]["id"];
  EXPECT_EQ(id.size(), 36u);
  EXPECT_EQ(added.body["policy"]["version"], 1);

  Reply full = Call("GET", "/policy?ids=" + id, "");
  ASSERT_EQ(full.status, 200);
  ASSERT_EQ(full.body["policies"].size(), 1u);
  const json& policy = full.body["policies"][0];
  EXPECT_EQ(policy["content"], kDocumentPolicyRego);
  EXPECT_EQ(policy["attester_type"], json({"tpm_ima"}));
  EXPECT_EQ(policy["is_default"], true);
  EXPECT_EQ(policy["valid_code"], 0);
  Reply summaries = Call("GET", "/policy?attester_type=tpm_ima", "");
  ASSERT_EQ(summaries.status, 200);
  ASSERT_EQ(summaries.body["policies"].size(), 1u);
  EXPECT_FALSE(summaries.body["policies"][0].contains("content"));
  EXPECT_TRUE(Call("GET", "/policy?attester_type=tpm_boot", "")
                  .body["policies"]
                  .empty());

  // Bad input: 400 with a message, nothing stored.
  json bad = NewPolicy("ima-policy");  // Name taken.
  EXPECT_EQ(Call("POST", "/policy", bad.dump()).status, 400);
  bad = NewPolicy(std::string(256, 'n'));
  EXPECT_EQ(Call("POST", "/policy", bad.dump()).status, 400);
  bad = NewPolicy("broken");
  bad["content"] = absl::Base64Escape("package verification\nresult := {");
  Reply broken = Call("POST", "/policy", bad.dump());
  EXPECT_EQ(broken.status, 400);
  EXPECT_EQ(broken.body["message"].get<std::string>().rfind(
                "Failed to compile policy", 0),
            0u)
      << broken.body.dump();
  bad = NewPolicy("not-base64");
  bad["content"] = "%%%";
  EXPECT_EQ(Call("POST", "/policy", bad.dump()).status, 400);
  bad = NewPolicy("typed");
  bad["attester_type"] = "tpm_ima";
  EXPECT_EQ(Call("POST", "/policy", bad.dump()).status, 400);
  EXPECT_EQ(Call("POST", "/policy", "[]").status, 400);
  EXPECT_EQ(Call("POST", "/policy", NewPolicy("x").dump(), "").status, 400);
  EXPECT_EQ(Call("POST", "/policy", NewPolicy("x").dump(), std::string(37, 'u'))
                .status,
            400);
  EXPECT_EQ(Call("GET", "/policy", "").body["policies"].size(), 1u);

  // Another user sees none of it.
  EXPECT_TRUE(
      Call("GET", "/policy?ids=" + id, "", "bob").body["policies"].empty());
  EXPECT_EQ(
      Call("PUT", "/policy", json{{"id", id}, {"name", "mine"}}.dump(), "bob")
          .status,
      404);

  Reply updated =
      Call("PUT", "/policy", json{{"id", id}, {"name", "renamed"}}.dump());
  ASSERT_EQ(updated.status, 200) << updated.body.dump();
  EXPECT_EQ(updated.body["policy"]["version"], 2);
  EXPECT_EQ(updated.body["policy"]["name"], "renamed");
  EXPECT_EQ(Call("PUT", "/policy", json{{"id", "nope"}}.dump()).status, 404);

  // Policies survive a restart.
  EXPECT_EQ(trellisd_->Stop(), 0);
  Start();
  Reply kept = Call("GET", "/policy?ids=" + id, "");
  ASSERT_EQ(kept.status, 200);
  ASSERT_EQ(kept.body["policies"].size(), 1u);
  EXPECT_EQ(kept.body["policies"][0]["version"], 2);

  EXPECT_EQ(
      Call("DELETE", "/policy", json{{"delete_type", "ids"}}.dump()).status,
      400);
  EXPECT_EQ(Call("DELETE", "/policy",
                 json{{"delete_type", "id"}, {"ids", {id}}}.dump())
                .status,
            200);
  EXPECT_TRUE(Call("GET", "/policy?ids=" + id, "").body["policies"].empty());

  // The log holds add, update and delete, in order, once integrated.
  const int64_t log_id = GtaLogId();
  ASSERT_NE(log_id, 0);
  auto log = trellisd_->LogStub();
  trillian::GetLeavesByRangeResponse leaves;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    trillian::GetLeavesByRangeRequest range;
    range.set_log_id(log_id);
    range.set_start_index(0);
    range.set_count(10);
    leaves.Clear();
    if (log->GetLeavesByRange(&context, range, &leaves).ok() &&
        leaves.leaves_size() == 3) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(leaves.leaves_size(), 3);
  std::vector<std::string> actions;
  for (const auto& leaf : leaves.leaves()) {
    trellis::GtaChangeRecord record;
    ASSERT_TRUE(record.ParseFromString(leaf.leaf_value()));
    EXPECT_EQ(record.type(), "trellis.gta.change.v1");
    EXPECT_EQ(record.user_id(), "alice");
    EXPECT_EQ(record.resource_id(), id);
    actions.push_back(record.action());
  }
  EXPECT_EQ(actions, (std::vector<std::string>{"add", "update", "delete"}));
}

// A UEFI_VARIABLE_DATA for SecureBoot = 1.
std::string SecureBootVariable() {
  std::string data(16, '\x01');                  // VariableName GUID.
  data += std::string("\x0a\0\0\0\0\0\0\0", 8);  // 10 UTF-16 chars.
  data += std::string("\x01\0\0\0\0\0\0\0", 8);  // 1 data byte.
  for (char c : std::string("SecureBoot")) {
    data.push_back(c);
    data.push_back('\0');
  }
  data.push_back('\x01');
  return data;
}

// A boot measured into `device`: events extended into PCRs 0-7, SecureBoot
// on in PCR 7. Returns the TCG event log.
std::string Boot(attest::host::TpmDevice& device) {
  std::vector<attest::eventlog::Event> events;
  for (int pcr = 0; pcr < 8; ++pcr) {
    if (pcr == 7) {
      attest::eventlog::Event secure_boot;
      secure_boot.pcr = 7;
      secure_boot.type = 0x80000001;  // EV_EFI_VARIABLE_DRIVER_CONFIG
      secure_boot.data = SecureBootVariable();
      events.push_back(secure_boot);
    }
    attest::eventlog::Event separator;
    separator.pcr = pcr;
    separator.type = attest::eventlog::kEvSeparator;
    separator.data = std::string(4, '\xff');
    events.push_back(separator);
  }
  for (attest::eventlog::Event& event : events) {
    event.digests[TPM2_ALG_SHA256] =
        crypto::Digest(crypto::DigestAlgorithm::kSha256, {event.data});
    EXPECT_TRUE(
        device.ExtendPcr(event.pcr, event.digests[TPM2_ALG_SHA256]).ok());
  }
  return attest::eventlog::Serialize({TPM2_ALG_SHA256}, events);
}

// The whole GTA flow against a software TPM: certificates, a policy,
// challenge, tpm_boot evidence made by the TPM (AK certified by the user's
// CA, quote bound to the nonce and attester_data, a boot log), a token that
// PyJWT verifies with the JWKS, token/verify, the token's record in the
// log, nonce replay refused, and a CRL that revokes the AK.
TEST_F(GtaTest, AttestsSwtpmEvidenceIntoAVerifiableToken) {
  Swtpm swtpm;
  auto device = attest::host::TpmDevice::Open(swtpm.tcti()).value();
  const attest::host::KeyBlob ak = device->CreateAk("rsa").value();
  MakePki(ak.public_area);
  const std::string boot_log = Boot(*device);

  // The user's CA and a policy.
  Reply root = AddCert("root", "tpm_boot", "root.pem");
  ASSERT_EQ(root.status, 200) << root.body.dump();
  EXPECT_EQ(root.body["cert"]["cert_id"].get<std::string>().size(), 32u);
  const std::string rego =
      ReadFile("tests/testdata/rego/tpm_boot.rego").value();
  Reply policy = Call("POST", "/policy",
                      json{{"name", "secure-boot"},
                           {"attester_type", {"tpm_boot"}},
                           {"content_type", "text"},
                           {"content", absl::Base64Escape(rego)},
                           {"is_default", true}}
                          .dump());
  ASSERT_EQ(policy.status, 200) << policy.body.dump();
  const std::string policy_id = policy.body["policy"]["id"];

  const std::string attester_data = R"({"test_key":"test_value"})";
  // One attestation: challenge, quote, POST /attest.
  auto attest = [&](json* request_out) {
    Reply challenge = Call("POST", "/challenge",
                           json{{"attester_type", {"tpm_boot"}}}.dump());
    EXPECT_EQ(challenge.status, 200);
    const std::string nonce_text = challenge.body["nonce"].dump();
    const std::string extra =
        crypto::Digest(crypto::DigestAlgorithm::kSha256,
                       {nonce_text + absl::Base64Escape(attester_data)});
    auto quote = device->Quote(
        ak, extra, *attest::host::ParsePcrList("sha256:0,1,2,3,4,5,6,7"));
    EXPECT_TRUE(quote.ok()) << quote.status();
    json pcr_values = json::array();
    for (const attest::tpm::PcrValue& value : quote->pcrs) {
      pcr_values.push_back(
          {{"pcr_index", value.pcr},
           {"pcr_value", absl::BytesToHexString(value.digest)}});
    }
    json evidence = {
        {"ak_certs",
         {{{"cert_type", "aik"}, {"cert_data", Pem("tpm_ak.pem")}},
          {{"cert_type", "aik"}, {"cert_data", Pem("intermediate.pem")}}}},
        {"quote",
         {{"quote_data", absl::Base64Escape(quote->signed_quote.attest)},
          {"signature", absl::Base64Escape(quote->signed_quote.signature)}}},
        {"pcrs", {{"hash_alg", "sha256"}, {"pcr_values", pcr_values}}},
        {"logs",
         {{{"log_type", "TcgEventLog"},
           {"log_data", absl::Base64Escape(boot_log)}}}}};
    // attester_data is spliced in as text: bound as sent.
    json request = {
        {"agent_version", "1.0"},
        {"nonce_type", "verifier"},
        {"measurements",
         {{{"node_id", "node-a"},
           {"nonce", absl::Base64Escape(nonce_text)},
           {"attester_data", "ATTESTER_DATA"},
           {"evidences",
            {{{"attester_type", "tpm_boot"}, {"evidence", evidence}}}}}}}};
    std::string text = request.dump();
    const std::string placeholder = R"("ATTESTER_DATA")";
    text.replace(text.find(placeholder), placeholder.size(), attester_data);
    if (request_out != nullptr) *request_out = json::parse(text);
    return Call("POST", "/attest", text);
  };

  json request;
  Reply attested = attest(&request);
  ASSERT_EQ(attested.status, 200) << attested.body.dump();
  EXPECT_EQ(attested.body["service_version"], "1.0");
  ASSERT_EQ(attested.body["tokens"].size(), 1u);
  EXPECT_EQ(attested.body["tokens"][0]["node_id"], "node-a");
  const std::string token = attested.body["tokens"][0]["token"];

  // PyJWT verifies it with the JWKS the service publishes.
  httplib::Result jwks = client_->Get(absl::StrCat(kPrefix, "/jwks").c_str());
  ASSERT_TRUE(jwks && jwks->status == 200);
  ASSERT_TRUE(ReplaceFile(dir_.path() + "/token", token, 0600).ok());
  ASSERT_TRUE(ReplaceFile(dir_.path() + "/jwks", jwks->body, 0600).ok());
  ASSERT_TRUE(ReplaceFile(dir_.path() + "/check.py",
                          "import json, jwt, sys\n"
                          "from jwt.algorithms import RSAPSSAlgorithm\n"
                          "token = open(sys.argv[1]).read()\n"
                          "kid = jwt.get_unverified_header(token)['kid']\n"
                          "jwk = [k for k in json.load(open(sys.argv[2]))"
                          "['keys'] if k['kid'] == kid][0]\n"
                          "key = RSAPSSAlgorithm.from_jwk(json.dumps(jwk))\n"
                          "claims = jwt.decode(token, key, "
                          "algorithms=['PS256'])\n"
                          "open(sys.argv[3], 'w').write(json.dumps(claims))\n",
                          0600)
                  .ok());
  ASSERT_EQ(
      std::system(absl::StrCat("/usr/bin/python3 ", dir_.path(), "/check.py ",
                               dir_.path(), "/token ", dir_.path(), "/jwks ",
                               dir_.path(), "/claims")
                      .c_str()),
      0);
  const json claims = json::parse(ReadFile(dir_.path() + "/claims").value());
  EXPECT_EQ(claims["status"], "pass");
  EXPECT_EQ(claims["ueid"], "node-a");
  EXPECT_EQ(claims["attester_data"], json::parse(attester_data));
  EXPECT_EQ(claims["matched_policy"], json({policy_id}));
  EXPECT_EQ(claims["tpm_boot"]["attestation_status"], "pass");
  EXPECT_EQ(claims["tpm_boot"]["secure_boot"], "enabled");
  EXPECT_EQ(claims["tpm_boot"]["log_status"], "replay_success");
  EXPECT_EQ(claims["tpm_boot"]["policy_info"][0]["appraisal_policy_id"],
            policy_id);
  EXPECT_EQ(claims["tpm_boot"]["policy_info"][0]["custom_data"]["hash_alg"],
            "sha256");
  EXPECT_EQ(claims["exp"].get<int64_t>() - claims["iat"].get<int64_t>(), 3600);

  // token/verify agrees; a changed byte does not pass.
  Reply verified = Call("POST", "/token/verify", json{{"token", token}}.dump());
  ASSERT_EQ(verified.status, 200);
  EXPECT_EQ(verified.body["verification_pass"], true);
  EXPECT_EQ(verified.body["token_body"]["jti"], claims["jti"]);
  std::string tampered = token;
  tampered[tampered.size() / 3] =
      tampered[tampered.size() / 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(Call("POST", "/token/verify", json{{"token", tampered}}.dump())
                .body["verification_pass"],
            false);
  EXPECT_EQ(Call("POST", "/token/verify", json{{"token", ""}}.dump()).status,
            400);

  // The same request again: its nonce is spent.
  Reply replay = Call("POST", "/attest", request.dump());
  EXPECT_EQ(replay.status, 400);
  EXPECT_EQ(replay.body["message"], "Invalid nonce.");
  // Another user has no CA: the AK chain is not trusted.
  EXPECT_EQ(Call("POST", "/attest", request.dump(), "bob").status, 400);

  // The token's record is in the log, under the leaf hash it carries.
  const std::string leaf_hash = absl::HexStringToBytes(
      claims["trellis_record_leaf_hash"].get<std::string>());
  const int64_t log_id = GtaLogId();
  auto log = trellisd_->LogStub();
  trillian::GetLeavesByHashResponse found;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    grpc::ClientContext context;
    trillian::GetLeavesByHashRequest by_hash;
    by_hash.set_log_id(log_id);
    by_hash.add_leaf_hash(leaf_hash);
    found.Clear();
    if (log->GetLeavesByHash(&context, by_hash, &found).ok() &&
        found.leaves_size() == 1) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(100));
  }
  ASSERT_EQ(found.leaves_size(), 1);
  trellis::GtaChangeRecord record;
  ASSERT_TRUE(record.ParseFromString(found.leaves(0).leaf_value()));
  EXPECT_EQ(record.resource(), "token");
  EXPECT_EQ(record.resource_id(), claims["jti"]);
  EXPECT_EQ(record.status(), "pass");
  EXPECT_EQ(record.name(), "node-a");
  // An auditor finds it with the CLI, its inclusion proven.
  CliResult shown =
      RunCli({"--addr=" + trellisd_->address(), "audit", "show",
              claims["trellis_record_leaf_hash"].get<std::string>()});
  ASSERT_EQ(shown.exit_code, 0) << shown.err;
  const json audit = json::parse(shown.out);
  EXPECT_EQ(audit["proofVerified"], true);
  EXPECT_EQ(audit["recordLog"], "trellis-gta");
  EXPECT_EQ(audit["record"]["resource"], "token");
  EXPECT_EQ(audit["record"]["resource_id"], claims["jti"]);

  // The intermediate stored and its CRL revoking the AK: refused.
  ASSERT_EQ(AddCert("intermediate", "tpm_boot", "intermediate.pem").status,
            200);
  Reply crl = AddCert("crl", "crl", "crl_tpm_ak.pem");
  ASSERT_EQ(crl.status, 200) << crl.body.dump();
  EXPECT_EQ(crl.body["crl"]["crl_name"], "crl");
  Reply revoked = attest(nullptr);
  EXPECT_EQ(revoked.status, 400);
  EXPECT_EQ(revoked.body["message"], "the AK certificate is revoked");
  EXPECT_EQ(Call("GET", "/cert?cert_type=crl", "").body["crls"].size(), 1u);
}

// With --gta_require_api_key every service call needs the API-Key that
// GET register gave its User-Id; register rotates it for its holder.
TEST_F(GtaTest, ApiKeysWhenRequired) {
  EXPECT_EQ(trellisd_->Stop(), 0);
  Start({"--gta_require_api_key"});
  Reply registered = Call("GET", "/register", "", "");
  ASSERT_EQ(registered.status, 200) << registered.body.dump();
  const std::string user = registered.body["User-Id"];
  const std::string key = registered.body["API-Key"];
  EXPECT_EQ(key.size(), 32u);
  const std::string challenge = json{{"attester_type", {"tpm_boot"}}}.dump();
  EXPECT_EQ(Call("POST", "/challenge", challenge, user, key).status, 200);
  EXPECT_EQ(Call("POST", "/challenge", challenge, user).status, 401);
  EXPECT_EQ(Call("POST", "/challenge", challenge, user, "x" + key).status, 401);
  EXPECT_EQ(Call("GET", "/policy", "", "alice", key).status, 401);
  // Rotation: the holder gets a new key, the old one stops working.
  Reply rotated = Call("GET", "/register", "", user, key);
  ASSERT_EQ(rotated.status, 200);
  const std::string new_key = rotated.body["API-Key"];
  EXPECT_NE(new_key, key);
  EXPECT_EQ(Call("GET", "/policy", "", user, key).status, 401);
  EXPECT_EQ(Call("GET", "/policy", "", user, new_key).status, 200);
  EXPECT_EQ(Call("GET", "/register", "", user, key).status, 401);
  // Token verification and the JWKS stay open.
  EXPECT_EQ(Call("POST", "/token/verify", json{{"token", "a.b.c"}}.dump(), "")
                .body["verification_pass"],
            false);
  EXPECT_EQ(Call("GET", "/jwks", "", "").status, 200);
}

// tpm_ima evidence from a software TPM (PCR 10 extended with an IMA list),
// a user nonce, reference values signed by the user's refvalue
// certificate: every measured file known -> pass; a file no reference value
// lists -> the policy fails the token.
TEST_F(GtaTest, AttestsImaEvidenceAgainstReferenceValues) {
  Swtpm swtpm;
  auto device = attest::host::TpmDevice::Open(swtpm.tcti()).value();
  const attest::host::KeyBlob ak = device->CreateAk("ecc").value();
  MakePki(ak.public_area);
  ASSERT_EQ(AddCert("root", "tpm_ima", "root.pem").status, 200);
  ASSERT_EQ(AddCert("signer", "refvalue", "refvalue_signer.pem").status, 200);
  Reply ref = Call("POST", "/ref_value",
                   json{{"name", "distro"},
                        {"attester_type", "tpm_ima"},
                        {"content", Pem("ref_values.jws")},
                        {"is_default", true}}
                       .dump());
  ASSERT_EQ(ref.status, 200) << ref.body.dump();
  EXPECT_EQ(Call("GET", "/ref_value?attester_type=tpm_ima", "")
                .body["ref_values"]
                .size(),
            1u);
  ASSERT_EQ(Call("POST", "/policy",
                 json{{"name", "all-known"},
                      {"attester_type", {"tpm_ima"}},
                      {"content_type", "text"},
                      {"content",
                       absl::Base64Escape(
                           "package verification\n"
                           "default ok = false\n"
                           "ok { input.evidence.logs[0].ref_value_match_status"
                           " == \"matched\" }\n"
                           "result := {\"policy_matched\": ok}\n")},
                      {"is_default", true}}
                     .dump())
                .status,
            200);

  std::vector<attest::ima::Entry> ima = {
      attest::ima::MakeImaNgEntry("boot_aggregate", std::string(32, '\x01')),
      attest::ima::MakeImaNgEntry("/usr/bin/sh", std::string(32, '\xaa'))};
  auto extend = [&](const attest::ima::Entry& entry) {
    ASSERT_TRUE(
        device
            ->ExtendPcr(10, crypto::Digest(crypto::DigestAlgorithm::kSha256,
                                           {entry.template_data}))
            .ok());
  };
  for (const auto& entry : ima) extend(entry);
  auto attest = [&] {
    const std::string user_nonce = "user chosen nonce";
    auto quote = device->Quote(
        ak, crypto::Digest(crypto::DigestAlgorithm::kSha256, {user_nonce}),
        *attest::host::ParsePcrList("sha256:10"));
    EXPECT_TRUE(quote.ok()) << quote.status();
    std::string list;
    for (const auto& entry : ima)
      list += attest::ima::FormatAscii(entry) + "\n";
    json evidence = {
        {"ak_certs",
         {{{"cert_type", "aik"}, {"cert_data", Pem("tpm_ak.pem")}},
          {{"cert_type", "aik"}, {"cert_data", Pem("intermediate.pem")}}}},
        {"quote",
         {{"quote_data", absl::Base64Escape(quote->signed_quote.attest)},
          {"signature", absl::Base64Escape(quote->signed_quote.signature)}}},
        {"pcrs",
         {{"hash_alg", "sha256"},
          {"pcr_values",
           {{{"pcr_index", 10},
             {"pcr_value",
              absl::BytesToHexString(quote->pcrs.at(0).digest)}}}}}},
        {"logs",
         {{{"log_type", "ImaLog"}, {"log_data", absl::Base64Escape(list)}}}}};
    return Call(
        "POST", "/attest",
        json{{"nonce_type", "user"},
             {"user_nonce", absl::Base64Escape(user_nonce)},
             {"measurements",
              {{{"node_id", "node-i"},
                {"evidences",
                 {{{"attester_type", "tpm_ima"}, {"evidence", evidence}}}}}}}}
            .dump());
  };
  auto claims_of = [&](const Reply& reply) {
    Reply verified =
        Call("POST", "/token/verify",
             json{{"token", reply.body["tokens"][0]["token"]}}.dump());
    EXPECT_EQ(verified.body["verification_pass"], true);
    return verified.body["token_body"];
  };
  Reply good = attest();
  ASSERT_EQ(good.status, 200) << good.body.dump();
  json claims = claims_of(good);
  EXPECT_EQ(claims["status"], "pass");
  EXPECT_EQ(claims["nonce_type"], "user");
  EXPECT_EQ(claims["tpm_ima"]["ref_value_match_status"], "matched");
  EXPECT_EQ(claims["tpm_ima"]["measured_files"], 2);

  ima.push_back(
      attest::ima::MakeImaNgEntry("/opt/unknown", std::string(32, '\x0e')));
  extend(ima.back());
  Reply bad = attest();
  ASSERT_EQ(bad.status, 200) << bad.body.dump();
  claims = claims_of(bad);
  EXPECT_EQ(claims["status"], "fail");
  EXPECT_EQ(claims["tpm_ima"]["attestation_status"], "fail");
  EXPECT_EQ(claims["tpm_ima"]["ref_value_match_status"], "unmatched");
  EXPECT_EQ(claims["tpm_ima"]["unmatched_files"], 1);
  EXPECT_EQ(claims["unmatched_policy"].size(), 1u);
}

// The key manager API: only on its own listener, only for allow-listed
// client certificates; it exports every key version (newest first) and
// rotates; the previous TSK keeps verifying during its overlap.
TEST_F(GtaTest, KeyManagerApiForAllowListedClientsOnly) {
  const std::string pki = MakePki();
  EXPECT_EQ(trellisd_->Stop(), 0);
  const std::string port_file = dir_.path() + "/vault.port";
  Start({"--gta_vault_addr=127.0.0.1:0",
         "--gta_vault_client_ca=" + pki + "/root.pem",
         "--gta_vault_allowed_certs=" + pki + "/vault_client.pem",
         "--gta_vault_port_file=" + port_file});
  int port = 0;
  std::ifstream(port_file) >> port;
  ASSERT_GT(port, 0);
  auto vault = [&](const std::string& client) {
    auto c = std::make_unique<httplib::SSLClient>(
        "127.0.0.1", port, (pki + "/" + client + ".pem").c_str(),
        (pki + "/" + client + ".key").c_str());
    c->set_ca_cert_path(trellisd_->gta_ca_file().c_str());
    c->enable_server_certificate_verification(true);
    // The first export makes the key versions (RSA key generation), which a
    // loaded machine may take longer than httplib's 5 s default for.
    c->set_read_timeout(30, 0);
    return c;
  };

  httplib::Result keys =
      vault("vault_client")->Get("/v1/vault/get_signing_keys");
  ASSERT_TRUE(keys) << httplib::to_string(keys.error());
  ASSERT_EQ(keys->status, 200) << keys->body;
  const json exported = json::parse(keys->body);
  for (const char* name : {"NSK", "TSK", "FSK"}) {
    ASSERT_EQ(exported[name].size(), 1u) << name;
    EXPECT_EQ(exported[name][0]["version"], "v1");
    EXPECT_EQ(exported[name][0]["algorithm"], "rsa_3072");
    EXPECT_EQ(exported[name][0]["encoding"], "pem");
    EXPECT_NE(
        exported[name][0]["private_key"].get<std::string>().find("PRIVATE KEY"),
        std::string::npos);
  }
  // Not on the service listener, and not for other clients.
  EXPECT_EQ(Call("GET", "/../../../v1/vault/get_signing_keys", "").status, 404);
  httplib::Result other =
      vault("other_client")->Get("/v1/vault/get_signing_keys");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 403);
  httplib::SSLClient anonymous("127.0.0.1", port);
  anonymous.enable_server_certificate_verification(false);
  EXPECT_FALSE(anonymous.Get("/v1/vault/get_signing_keys"));

  httplib::Result rotated =
      vault("vault_client")->Post("/v1/vault/rotate?key=TSK", "", "text/plain");
  ASSERT_TRUE(rotated && rotated->status == 200);
  EXPECT_EQ(json::parse(rotated->body)["version"], "v2");
  const json after = json::parse(
      vault("vault_client")->Get("/v1/vault/get_signing_keys")->body);
  ASSERT_EQ(after["TSK"].size(), 2u);
  EXPECT_EQ(after["TSK"][0]["version"], "v2");
  // Both verify during the overlap: the JWKS lists both, newest first.
  httplib::Result jwks = client_->Get(absl::StrCat(kPrefix, "/jwks").c_str());
  ASSERT_TRUE(jwks && jwks->status == 200);
  const json published = json::parse(jwks->body)["keys"];
  ASSERT_EQ(published.size(), 2u);
  EXPECT_EQ(published[0]["kid"], "TSK-v2");
  EXPECT_EQ(published[1]["kid"], "TSK-v1");
  EXPECT_EQ(vault("vault_client")
                ->Post("/v1/vault/rotate?key=PSK", "", "text/plain")
                ->status,
            400);
}

// GTA's agent API as `trellis-tpm serve` offers it, on a software TPM: a
// token in one call (challenge, evidence from the TPM and the kernel's logs,
// attest), types and policies chosen by the caller, evidence for a nonce
// the caller got that the service accepts once, and bad requests refused.
TEST_F(GtaTest, TrellisTpmServesTheAgentApi) {
  Swtpm swtpm;
  std::string boot_log;
  const std::vector<attest::ima::Entry> ima = {
      attest::ima::MakeImaNgEntry("boot_aggregate", std::string(32, '\x01')),
      attest::ima::MakeImaNgEntry("/usr/bin/sh", std::string(32, '\xaa'))};
  {
    auto device = attest::host::TpmDevice::Open(swtpm.tcti()).value();
    boot_log = Boot(*device);
    for (const auto& entry : ima) {
      ASSERT_TRUE(
          device
              ->ExtendPcr(10, crypto::Digest(crypto::DigestAlgorithm::kSha256,
                                             {entry.template_data}))
              .ok());
    }
  }  // trellis-tpm has the TPM from here on.
  const std::string work_dir = dir_.path() + "/tpm";
  CliResult keys =
      RunProgram("cmd/trellis-tpm/trellis-tpm",
                 {"create-ek-ak", "--algorithm=rsa", "--tcti=" + swtpm.tcti(),
                  "--work_dir=" + work_dir});
  ASSERT_EQ(keys.exit_code, 0) << keys.err;
  std::string ak_public;
  ASSERT_TRUE(absl::Base64Unescape(
      json::parse(keys.out)["ak_public"].get<std::string>(), &ak_public));
  MakePki(ak_public);
  const std::string boot_log_file = dir_.path() + "/binary_bios_measurements";
  const std::string ima_file = dir_.path() + "/ascii_runtime_measurements";
  std::string ima_list;
  for (const auto& entry : ima) {
    ima_list += attest::ima::FormatAscii(entry) + "\n";
  }
  ASSERT_TRUE(ReplaceFile(boot_log_file, boot_log, 0600).ok());
  ASSERT_TRUE(ReplaceFile(ima_file, ima_list, 0600).ok());

  Reply root = Call("POST", "/cert",
                    json{{"name", "root"},
                         {"type", {"tpm_boot", "tpm_ima"}},
                         {"content", Pem("root.pem")}}
                        .dump());
  ASSERT_EQ(root.status, 200) << root.body.dump();
  Reply policy =
      Call("POST", "/policy",
           json{{"name", "secure-boot"},
                {"attester_type", {"tpm_boot"}},
                {"content_type", "text"},
                {"content",
                 absl::Base64Escape(
                     ReadFile("tests/testdata/rego/tpm_boot.rego").value())},
                {"is_default", true}}
               .dump());
  ASSERT_EQ(policy.status, 200) << policy.body.dump();
  const std::string policy_id = policy.body["policy"]["id"];

  const std::string port_file = dir_.path() + "/agent.port";
  ServerProcess agent(
      {"cmd/trellis-tpm/trellis-tpm", "serve", "--tcti=" + swtpm.tcti(),
       "--work_dir=" + work_dir, "--listen=127.0.0.1:0",
       "--port_file=" + port_file,
       "--gta_ak_certs=" + dir_.path() + "/pki/tpm_ak.pem," + dir_.path() +
           "/pki/intermediate.pem",
       "--boot_log=" + boot_log_file, "--ima_log=" + ima_file,
       "--node_id=node-t",
       absl::StrCat("--gta_service=https://127.0.0.1:", trellisd_->gta_port()),
       "--gta_service_ca=" + trellisd_->gta_ca_file(), "--gta_user_id=alice"},
      port_file);
  httplib::Client agent_client("127.0.0.1", agent.port());
  agent_client.set_read_timeout(60);
  // (status, body as sent: the quote binds attester_data's member order).
  auto agent_call = [&](const std::string& path, const json& body) {
    httplib::Result r = agent_client.Post(
        absl::StrCat("/global-trust-authority/agent/v1", path), body.dump(),
        "application/json");
    EXPECT_TRUE(r) << path;
    return r ? std::make_pair(r->status, r->body)
             : std::make_pair(0, std::string());
  };
  auto claims_of = [&](const std::string& reply) {
    const json token = json::parse(reply, nullptr, false)["token"];
    Reply verified =
        Call("POST", "/token/verify", json{{"token", token}}.dump());
    EXPECT_EQ(verified.body["verification_pass"], true) << verified.body.dump();
    return verified.body["token_body"];
  };

  // One call, no type named: every type the host reports, challenged.
  auto [status, reply] = agent_call(
      "/tokens", {{"challenge", true},
                  {"attester_data", json::parse(R"({"z":1,"a":[2]})")}});
  ASSERT_EQ(status, 200) << reply;
  json claims = claims_of(reply);
  EXPECT_EQ(claims["ueid"], "node-t");
  EXPECT_EQ(claims["nonce_type"], "verifier");
  EXPECT_EQ(claims["attester_data"], json::parse(R"({"z":1,"a":[2]})"));
  EXPECT_EQ(claims["tpm_boot"]["attestation_status"], "pass") << claims.dump();
  EXPECT_EQ(claims["tpm_boot"]["policy_info"][0]["appraisal_policy_id"],
            policy_id);
  ASSERT_TRUE(claims.contains("tpm_ima")) << claims.dump();
  EXPECT_EQ(claims["tpm_ima"]["attestation_status"], "unknown");
  // The CLI verifies it too.
  CliResult verified = RunCli(
      {"gta", absl::StrCat("--gta=https://127.0.0.1:", trellisd_->gta_port()),
       "--gta_ca=" + trellisd_->gta_ca_file(), "--user=alice", "token",
       "verify", "-"},
      json::parse(reply)["token"].get<std::string>());
  EXPECT_EQ(verified.exit_code, 0) << verified.err;

  // One type, no challenge: nonce_type ignore.
  std::tie(status, reply) = agent_call(
      "/tokens", {{"attester_info", {{{"attester_type", "tpm_boot"}}}}});
  ASSERT_EQ(status, 200) << reply;
  claims = claims_of(reply);
  EXPECT_EQ(claims["nonce_type"], "ignore");
  EXPECT_FALSE(claims.contains("tpm_ima"));

  // Explicit policies; an unknown one is the service's 400, passed on.
  std::tie(status, reply) = agent_call(
      "/tokens",
      {{"challenge", true},
       {"attester_info",
        {{{"attester_type", "tpm_boot"}, {"policy_ids", {policy_id}}}}}});
  ASSERT_EQ(status, 200) << reply;
  EXPECT_EQ(claims_of(reply)["matched_policy"], json({policy_id}));
  std::tie(status, reply) =
      agent_call("/tokens", {{"attester_info",
                              {{{"attester_type", "tpm_boot"},
                                {"policy_ids", {"no-such-policy"}}}}}});
  EXPECT_EQ(status, 400);
  EXPECT_NE(reply.find("Policy not found"), std::string::npos) << reply;

  // Evidence for a nonce the caller got: accepted once, then a replay.
  Reply challenge =
      Call("POST", "/challenge", json{{"attester_type", {"tpm_boot"}}}.dump());
  ASSERT_EQ(challenge.status, 200);
  std::tie(status, reply) = agent_call(
      "/evidences", {{"attester_types", {"tpm_boot"}},
                     {"nonce_type", "verifier"},
                     {"nonce", challenge.body["nonce"]},
                     {"attester_data", json::parse(R"({"k":"v","b":0})")}});
  ASSERT_EQ(status, 200) << reply;
  const json evidence = json::parse(reply);
  EXPECT_EQ(evidence["measurements"][0]["evidences"][0]["evidence"]["logs"][0]
                    ["log_type"],
            "TcgEventLog");
  EXPECT_EQ(evidence["measurements"][0]["evidences"][0]["evidence"]["ak_certs"]
                .size(),
            2u);
  Reply attested = Call("POST", "/attest", reply);
  ASSERT_EQ(attested.status, 200) << attested.body.dump();
  EXPECT_EQ(attested.body["tokens"][0]["node_id"], "node-t");
  EXPECT_EQ(Call("POST", "/attest", reply).status, 400);

  // The document's `attesters` form with log types, and a user nonce.
  std::tie(status, reply) =
      agent_call("/evidences",
                 {{"attesters",
                   {{{"attester_type", "tpm_ima"}, {"log_types", {"ImaLog"}}}}},
                  {"nonce_type", "user"},
                  {"user_nonce", absl::Base64Escape("my own nonce")}});
  ASSERT_EQ(status, 200) << reply;
  EXPECT_EQ(json::parse(reply)["user_nonce"],
            absl::Base64Escape("my own nonce"));
  attested = Call("POST", "/attest", reply);
  EXPECT_EQ(attested.status, 200) << attested.body.dump();

  // Bad requests: 400 with a message, nothing attested.
  for (const json& bad :
       {json::object(),
        json{{"attester_types", {"virt_cca"}}, {"nonce_type", "ignore"}},
        json{{"attester_types", {"tpm_boot"}}},  // verifier without nonce
        json{{"attester_types", {"tpm_boot"}},
             {"nonce_type", "user"},
             {"user_nonce", "%%"}},
        json{{"attesters",
              {{{"attester_type", "tpm_boot"}, {"log_types", {"CCEL"}}}}},
             {"nonce_type", "ignore"}}}) {
    std::tie(status, reply) = agent_call("/evidences", bad);
    EXPECT_EQ(status, 400) << bad.dump();
    EXPECT_TRUE(json::parse(reply, nullptr, false).contains("message"))
        << reply;
  }
  std::tie(status, reply) = agent_call(
      "/tokens",
      {{"attester_info",
        {{{"attester_type", "tpm_boot"}}, {{"attester_type", "tpm_boot"}}}}});
  EXPECT_EQ(status, 400) << reply;
  std::tie(status, reply) = agent_call("/tokens", {{"challenge", "yes"}});
  EXPECT_EQ(status, 400) << reply;
  EXPECT_EQ(agent.Stop(), 0);
}

// Operators drive the resource APIs with `trellis gta`: register, certs
// and CRLs, policies (add, list, get, update, delete), reference values,
// token verification; refusals exit 1 with the service's message.
TEST_F(GtaTest, OperatorsUseTheTrellisGtaCli) {
  MakePki();
  const std::vector<std::string> service = {
      absl::StrCat("--gta=https://127.0.0.1:", trellisd_->gta_port()),
      "--gta_ca=" + trellisd_->gta_ca_file()};
  auto gta = [&](std::vector<std::string> args,
                 const std::string& user = "alice") {
    std::vector<std::string> full = {"gta"};
    full.insert(full.end(), service.begin(), service.end());
    if (!user.empty()) full.push_back("--user=" + user);
    full.insert(full.end(), args.begin(), args.end());
    return RunCli(full);
  };
  auto out = [](const CliResult& r) {
    return json::parse(r.out, nullptr, false);
  };

  CliResult registered = gta({"register"}, "");
  ASSERT_EQ(registered.exit_code, 0) << registered.err;
  EXPECT_EQ(out(registered)["API-Key"].get<std::string>().size(), 32u);

  const std::string pki = dir_.path() + "/pki/";
  CliResult cert = gta(
      {"cert", "add", pki + "root.pem", "--name=root", "--cert_type=tpm_boot"});
  ASSERT_EQ(cert.exit_code, 0) << cert.err;
  const std::string cert_id = out(cert)["cert"]["cert_id"];
  CliResult crl =
      gta({"cert", "add-crl", pki + "crl_intermediate.pem", "--name=crl"});
  ASSERT_EQ(crl.exit_code, 0) << crl.err;
  CliResult certs = gta({"cert", "list"});
  ASSERT_EQ(certs.exit_code, 0);
  EXPECT_EQ(out(certs)["certs"].size(), 1u);
  EXPECT_EQ(out(gta({"cert", "list", "--cert_type=crl"}))["crls"].size(), 1u);
  CliResult renamed = gta({"cert", "update", cert_id, "--name=anchor"});
  ASSERT_EQ(renamed.exit_code, 0) << renamed.err;
  EXPECT_EQ(out(gta({"cert", "get", cert_id}))["certs"][0]["cert_name"],
            "anchor");

  const std::string rego_file = "tests/testdata/rego/tpm_boot.rego";
  CliResult added = gta({"policy", "add", rego_file, "--name=secure-boot",
                         "--attester_type=tpm_boot", "--default=true"});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  const std::string policy_id = out(added)["policy"]["id"];
  CliResult listed = gta({"policy", "list", "--attester_type=tpm_boot"});
  ASSERT_EQ(listed.exit_code, 0);
  EXPECT_EQ(out(listed)["policies"].size(), 1u);
  CliResult got = gta({"policy", "get", policy_id});
  ASSERT_EQ(got.exit_code, 0);
  EXPECT_EQ(out(got)["policies"][0]["content"], ReadFile(rego_file).value());
  CliResult updated =
      gta({"policy", "update", policy_id, "--name=renamed", "--default=false"});
  ASSERT_EQ(updated.exit_code, 0) << updated.err;
  EXPECT_EQ(out(updated)["policy"]["version"], 2);
  // Refusals: exit 1 with the service's message; usage errors exit 2.
  const std::string broken = dir_.path() + "/broken.rego";
  ASSERT_TRUE(
      ReplaceFile(broken, "package verification\nresult := {", 0600).ok());
  CliResult refused = gta(
      {"policy", "add", broken, "--name=broken", "--attester_type=tpm_boot"});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("Failed to compile policy"), std::string::npos)
      << refused.err;
  EXPECT_EQ(gta({"policy", "get", policy_id}, "bob").exit_code, 0);
  EXPECT_TRUE(
      out(gta({"policy", "get", policy_id}, "bob"))["policies"].empty());
  EXPECT_EQ(gta({"policy", "delete"}).exit_code, 2);
  EXPECT_EQ(gta({"policy", "list"}, "").exit_code, 2);  // No --user.
  EXPECT_EQ(gta({"policy", "update", "no-such-id", "--name=x"}).exit_code, 1);
  ASSERT_EQ(gta({"policy", "delete", policy_id}).exit_code, 0);
  EXPECT_TRUE(out(gta({"policy", "list"}))["policies"].empty());

  ASSERT_EQ(gta({"cert", "add", pki + "refvalue_signer.pem", "--name=signer",
                 "--cert_type=refvalue"})
                .exit_code,
            0);
  CliResult ref = gta({"refvalue", "add", pki + "ref_values.jws",
                       "--name=distro", "--default=true"});
  ASSERT_EQ(ref.exit_code, 0) << ref.err;
  EXPECT_EQ(out(gta({"refvalue", "list"}))["ref_values"].size(), 1u);
  ASSERT_EQ(gta({"refvalue", "delete", "--all"}).exit_code, 0);
  EXPECT_TRUE(out(gta({"refvalue", "list"}))["ref_values"].empty());
  ASSERT_EQ(gta({"cert", "delete", "--cert_type=crl"}).exit_code, 0);
  EXPECT_TRUE(out(gta({"cert", "list", "--cert_type=crl"}))["crls"].empty());

  CliResult forged = gta({"token", "verify", "e30.e30.c2ln"});
  EXPECT_EQ(forged.exit_code, 1);
  EXPECT_EQ(out(forged)["verification_pass"], false);
  // An unreachable service gives no verdict.
  CliResult unreachable = RunCli(
      {"gta", "--gta=https://127.0.0.1:1", "--user=alice", "policy", "list"});
  EXPECT_EQ(unreachable.exit_code, 2);
}

}  // namespace
}  // namespace trellis::testing
