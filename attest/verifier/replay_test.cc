// Offline replay against evidence a real software TPM made: a faithful
// record replays to the same verdict; a record that lies about a check, or
// evidence, keys or policy that do not belong to the record, are caught.
#include "attest/verifier/replay.h"

#include "absl/strings/escaping.h"
#include "attest/host/tpm_device.h"
#include "attest/keylime/app_key_certificate.h"
#include "attest/keylime/quote.h"
#include "attest/testing/swtpm.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "attest/verifier/appraisal.h"
#include "gtest/gtest.h"

namespace trellis::attest {
namespace {

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto device = *host::TpmDevice::Open(tpm_.tcti());
    const std::string ek = *device->EkPublic();
    const host::KeyBlob ak = *device->CreateAk("ecc");
    const host::KeyBlob app = *device->CreateAppKey();
    const std::string nonce(32, '\x42');
    auto quote = *device->Quote(ak, nonce, *host::ParsePcrList("sha256:0,1"));
    auto certified = *device->Certify(app, ak, nonce);
    const std::string app_pem = *tpm::ToPem(*tpm::ParsePublic(app.public_area));
    EvidenceRequest request;
    request.type = "tpm-app-key";
    request.nonce = absl::BytesToHexString(nonce);
    request.quote = keylime::FormatQuote({quote.signed_quote.attest,
                                          quote.signed_quote.signature,
                                          *tpm::SerializePcrBlob(quote.pcrs)});
    request.hash_alg = "sha256";
    request.app_key_public = app_pem;
    request.app_key_certificate = keylime::EncodeAppKeyCertificate(
        {app_pem, app.public_area, certified.attest, certified.signature});
    request.tpm_ak = absl::Base64Escape(ak.public_area);

    inputs_.evidence = CanonicalEvidence(request);
    inputs_.ek_public = ek;
    inputs_.ak_public = ak.public_area;
    // The record the live verifier would have logged.
    RegisteredAk registered;
    registered.public_area = *tpm::ParsePublic(ak.public_area);
    registered.qualified_name =
        *tpm::AkQualifiedName(*tpm::ParsePublic(ek), registered.public_area);
    const Policy policy = *ParsePolicy(kDefaultPolicyId, 0, kBuiltinPolicyText);
    inputs_.policy_text = policy.text;
    Appraisal appraisal =
        AppraiseEvidence(request, registered, std::nullopt, policy);
    trellis::AttestationRecord& record = inputs_.record;
    record.set_ak_name(*tpm::ObjectName(registered.public_area));
    record.set_evidence_digest(
        *tpm::TpmHash(TPM2_ALG_SHA256, inputs_.evidence));
    record.set_nonce(nonce);
    record.set_policy_id(policy.id);
    record.set_policy_version(policy.version);
    record.set_policy_digest(policy.digest);
    for (const char* stateful : {"ak_registered", "nonce_fresh"}) {
      auto* c = record.add_checks();
      c->set_name(stateful);
      c->set_passed(true);
    }
    for (const CheckResult& r : appraisal.checks.results()) {
      auto* c = record.add_checks();
      c->set_name(r.name);
      c->set_passed(r.passed);
    }
    record.set_verified(true);
    ASSERT_TRUE(appraisal.checks.passed());
  }

  trellis::testing::Swtpm tpm_;
  ReplayInputs inputs_;
};

TEST_F(ReplayTest, FaithfulRecordReplaysToTheSameVerdict) {
  absl::StatusOr<ReplayResult> result = ReplayAppraisal(inputs_);
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_TRUE(result->agrees);
  EXPECT_TRUE(result->replayed_verified);
  EXPECT_TRUE(result->differences.empty());
  EXPECT_EQ(result->taken_from_record.size(), 3u);  // With clock_monotonic.
}

TEST_F(ReplayTest, RecordThatLiesIsCaught) {
  for (auto& check : *inputs_.record.mutable_checks()) {
    if (check.name() == kPcrDigestValid) check.set_passed(false);
  }
  inputs_.record.set_verified(false);
  absl::StatusOr<ReplayResult> result = ReplayAppraisal(inputs_);
  ASSERT_TRUE(result.ok());
  EXPECT_FALSE(result->agrees);
  ASSERT_EQ(result->differences.size(), 1u);
  EXPECT_NE(result->differences[0].find("pcr_digest_valid"), std::string::npos);
}

TEST_F(ReplayTest, InputsThatDoNotBelongToTheRecordAreRefused) {
  ReplayInputs tampered = inputs_;
  tampered.evidence[tampered.evidence.size() / 2] ^= 1;
  EXPECT_EQ(ReplayAppraisal(tampered).status().code(),
            absl::StatusCode::kInvalidArgument);
  tampered = inputs_;
  tampered.ak_public = tampered.ek_public;  // Another key.
  EXPECT_EQ(ReplayAppraisal(tampered).status().code(),
            absl::StatusCode::kInvalidArgument);
  tampered = inputs_;
  tampered.policy_text = R"({"accept_partial": true})";  // Not the record's.
  EXPECT_EQ(ReplayAppraisal(tampered).status().code(),
            absl::StatusCode::kInvalidArgument);
  tampered = inputs_;
  tampered.record.set_nonce("other");
  EXPECT_EQ(ReplayAppraisal(tampered).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trellis::attest
