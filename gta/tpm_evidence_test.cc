#include "gta/tpm_evidence.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/strings/escaping.h"
#include "gta/policy_evaluation.h"
#include "gtest/gtest.h"
#include "util/file.h"

namespace trellis::gta {
namespace {

using nlohmann::json;

// GTA's own sample (its API document's Get Evidence response): a real
// tpm_boot measurement with its AK certificate.
json Sample() {
  return json::parse(ReadFile("gta/testdata/tpm_boot_sample.json").value());
}

std::shared_ptr<EVP_PKEY> AkKey(const TpmEvidence& evidence) {
  BIO* bio = BIO_new_mem_buf(evidence.ak_cert_pems[0].data(),
                             evidence.ak_cert_pems[0].size());
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  EXPECT_NE(cert, nullptr);
  std::shared_ptr<EVP_PKEY> key(X509_get_pubkey(cert), EVP_PKEY_free);
  X509_free(cert);
  return key;
}

TEST(TpmEvidenceTest, GtasSampleVerifiesAndReplays) {
  const json sample = Sample();
  auto evidence = ParseTpmEvidence(sample["evidence"]);
  ASSERT_TRUE(evidence.ok()) << evidence.status();
  EXPECT_EQ(evidence->pcrs.size(), 8u);
  // The sample's nonce is not the one it quoted (the document pairs them
  // loosely): the quote is checked without the nonce binding.
  EXPECT_TRUE(VerifyQuote(*evidence, *AkKey(*evidence), std::nullopt).ok());
  EXPECT_FALSE(
      VerifyQuote(*evidence, *AkKey(*evidence), std::string(32, 'x')).ok());

  auto log = BootLogInput(*evidence);
  ASSERT_TRUE(log.ok()) << log.status();
  EXPECT_EQ((*log)["log_status"], "replay_success");
  EXPECT_EQ((*log)["log_data"].size(), 17u);
  EXPECT_EQ((*log)["log_data"][1]["event_type"], "EV_ACTION");
  EXPECT_EQ((*log)["log_data"][1]["event"]["string"], "Start Option ROM Scan");
  EXPECT_EQ((*log)["log_data"][6]["event_type"], "EV_SEPARATOR");

  // The policy input runs through GTA-style policies.
  const json input = PolicyInput(*evidence, json::array({*log}));
  policy::RegoSandbox sandbox;
  auto policy = CompileUserPolicy(sandbox, R"(package verification
default ok = false
ok { input.evidence.logs[0].log_status == "replay_success"
     count(input.evidence.pcrs.pcr_values) == 8 }
result := {"policy_matched": ok}
)",
                                  {kTpmBoot});
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_TRUE(EvaluateUserPolicy(**policy, input.dump())->matched);
}

// A byte changed anywhere in the sample is refused: quote, signature,
// PCR values, log.
TEST(TpmEvidenceTest, AFlippedByteAnywhereIsRefused) {
  const json sample = Sample();
  auto key = AkKey(*ParseTpmEvidence(sample["evidence"]));
  auto refused = [&](const TpmEvidence& evidence) {
    if (!VerifyQuote(evidence, *key, std::nullopt).ok()) return true;
    absl::StatusOr<json> log = BootLogInput(evidence);
    return !log.ok() || (*log)["log_status"] != "replay_success";
  };
  const TpmEvidence good = *ParseTpmEvidence(sample["evidence"]);
  ASSERT_FALSE(refused(good));
  int checked = 0;
  for (size_t i = 0; i < good.quote_data.size(); ++i) {
    TpmEvidence bad = good;
    bad.quote_data[i] ^= 0x01;
    EXPECT_TRUE(refused(bad)) << "quote byte " << i;
    ++checked;
  }
  for (size_t i = 0; i < good.signature.size(); i += 7) {
    TpmEvidence bad = good;
    bad.signature[i] ^= 0x01;
    EXPECT_TRUE(refused(bad)) << "signature byte " << i;
    ++checked;
  }
  for (auto& [index, value] : good.pcrs) {
    TpmEvidence bad = good;
    bad.pcrs[index][5] ^= 0x01;
    EXPECT_TRUE(refused(bad)) << "PCR " << index;
    ++checked;
  }
  // Every byte of the log that a replay or a check depends on: digests,
  // PCR indices, and the data of events whose digest must be its hash.
  for (size_t i = 0; i < good.logs[0].data.size(); ++i) {
    TpmEvidence bad = good;
    bad.logs[0].data[i] ^= 0x01;
    absl::StatusOr<json> log = BootLogInput(bad);
    if (log.ok() && (*log)["log_status"] == "replay_success") {
      // Only bytes no check covers may pass: data of events whose digest
      // is not required to be the data's hash (EV_EVENT_TAG, EV_ACTION,
      // EV_IPL...): as GTA, the policy sees them as reported.
      continue;
    }
    ++checked;
  }
  EXPECT_GT(checked, 500);

  // Drop a PCR: the selection no longer matches.
  TpmEvidence fewer = good;
  fewer.pcrs.erase(7);
  EXPECT_EQ(VerifyQuote(fewer, *key, std::nullopt).message(),
            "the quote's PCR selection is not the reported PCRs");
}

TEST(TpmEvidenceTest, RefusesMalformedEvidence) {
  const json sample = Sample();
  for (const char* field : {"quote", "pcrs"}) {
    json bad = sample["evidence"];
    bad.erase(field);
    EXPECT_EQ(ParseTpmEvidence(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << field;
  }
  json bad = sample["evidence"];
  bad["pcrs"]["pcr_values"][0]["pcr_value"] = "abcd";
  EXPECT_FALSE(ParseTpmEvidence(bad).ok());
  bad = sample["evidence"];
  bad["pcrs"]["hash_alg"] = "md5";
  EXPECT_FALSE(ParseTpmEvidence(bad).ok());
  bad = sample["evidence"];
  bad["quote"]["quote_data"] = "%%%";
  EXPECT_FALSE(ParseTpmEvidence(bad).ok());
  bad = sample["evidence"];
  bad["pcrs"]["pcr_values"].push_back(bad["pcrs"]["pcr_values"][0]);
  EXPECT_FALSE(ParseTpmEvidence(bad).ok());
  // ak_certs (GTA's current form) is accepted beside ak_cert.
  json current = sample["evidence"];
  current["ak_certs"] = {
      {{"cert_type", "aik"}, {"cert_data", current["ak_cert"]}}};
  current.erase("ak_cert");
  EXPECT_TRUE(ParseTpmEvidence(current).ok());
  // A log of the wrong type for tpm_boot.
  json ima = sample["evidence"];
  ima["logs"][0]["log_type"] = "ImaLog";
  EXPECT_FALSE(BootLogInput(*ParseTpmEvidence(ima)).ok());
}

TEST(TpmEvidenceTest, ExtraDataBindsNonceAndAttesterData) {
  const std::string data = R"({"test_key":"test_value"})";
  EXPECT_FALSE(ExpectedExtraData(std::nullopt, std::nullopt).has_value());
  const std::string both = *ExpectedExtraData(std::string("n"), data);
  EXPECT_EQ(both.size(), 32u);
  EXPECT_NE(both, *ExpectedExtraData(std::string("n"), std::nullopt));
  EXPECT_NE(both, *ExpectedExtraData(std::nullopt, data));
  // SHA-256("n" || base64(data)), computed independently.
  EXPECT_EQ(absl::BytesToHexString(both),
            "7fb042338898d2364c54f25b273a81507adba987c720983c888ea2eb74d16f29");
}

}  // namespace
}  // namespace trellis::gta
