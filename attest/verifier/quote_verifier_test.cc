// Quote verification against quotes tpm2-tools made on a real software TPM:
// a genuine quote passes every check; each tampering is refused by the
// check named for it.
#include "attest/verifier/quote_verifier.h"

#include "absl/strings/escaping.h"
#include "attest/testing/tpm2_tools.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "gtest/gtest.h"

namespace trellis::attest {
namespace {

constexpr char kNonceHex[] =
    "a010d512540d60c18ec1d3942978ff4453f465ce64eddfdd232facfe670a0d2b";

RegisteredAk Register(const trellis::testing::ToolsAk& tools) {
  RegisteredAk ak;
  ak.public_area = *tpm::ParsePublic(tools.ak_public);
  const TPMT_PUBLIC ek = *tpm::ParsePublic(tools.ek_public);
  ak.qualified_name = *tpm::AkQualifiedName(ek, ak.public_area);
  return ak;
}

class QuoteVerifierTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    tools_ak_ =
        trellis::testing::CreateAkWithTools(tpm_, dir_.path(), GetParam());
    ak_ = Register(tools_ak_);
    auto q = trellis::testing::QuoteWithTools(tpm_, tools_ak_, "sha256:0,1,16",
                                              kNonceHex);
    quote_ = {q.attest, q.signature, q.pcr_blob};
    expect_.nonce = absl::HexStringToBytes(kNonceHex);
  }

  // The named check failed, and it was the only one that did.
  void ExpectOnlyFailure(const QuoteVerification& v, const char* check) {
    ASSERT_NE(v.checks.first_failure(), nullptr) << "expected " << check;
    EXPECT_EQ(v.checks.first_failure()->name, check)
        << v.checks.first_failure()->detail;
    for (const CheckResult& r : v.checks.results()) {
      if (r.name != check) {
        EXPECT_TRUE(r.passed) << r.name << ": " << r.detail;
      }
    }
  }

  trellis::testing::Swtpm tpm_;
  trellis::testing::TempDir dir_;
  trellis::testing::ToolsAk tools_ak_;
  RegisteredAk ak_;
  keylime::Quote quote_;
  QuoteExpectation expect_;
};

TEST_P(QuoteVerifierTest, GenuineQuotePassesEveryCheck) {
  QuoteVerification v = VerifyQuote(quote_, ak_, expect_);
  EXPECT_TRUE(v.checks.passed());
  for (const CheckResult& r : v.checks.results()) {
    EXPECT_TRUE(r.passed) << r.name << ": " << r.detail;
  }
  EXPECT_EQ(v.checks.results().size(), 10u);
  EXPECT_EQ(v.pcrs.values.size(), 3u);
  // The Keylime quote string round-trips.
  auto parsed = keylime::ParseQuote(keylime::FormatQuote(quote_));
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(VerifyQuote(*parsed, ak_, expect_).checks.passed());
  // A later quote with the previous one's clock as history passes too.
  expect_.previous = v.clock;
  auto later = trellis::testing::QuoteWithTools(tpm_, tools_ak_,
                                                "sha256:0,1,16", kNonceHex);
  EXPECT_TRUE(
      VerifyQuote({later.attest, later.signature, later.pcr_blob}, ak_, expect_)
          .checks.passed());
}

TEST_P(QuoteVerifierTest, WrongNonce) {
  expect_.nonce[0] ^= 1;
  ExpectOnlyFailure(VerifyQuote(quote_, ak_, expect_), kNonceValid);
}

TEST_P(QuoteVerifierTest, NonceAsTextIsAccepted) {
  // Keylime's agents put the nonce's hex text itself into extraData.
  auto q = trellis::testing::QuoteWithTools(
      tpm_, tools_ak_, "sha256:0",
      absl::BytesToHexString(std::string(kNonceHex)));
  EXPECT_TRUE(VerifyQuote({q.attest, q.signature, q.pcr_blob}, ak_, expect_)
                  .checks.passed());
}

TEST_P(QuoteVerifierTest, PcrValueChanged) {
  tpm::PcrBlob blob = *tpm::ParsePcrBlob(quote_.pcr_blob);
  blob.values[1].digest[5] ^= 0x40;
  quote_.pcr_blob = *tpm::SerializePcrBlob(blob.values);
  ExpectOnlyFailure(VerifyQuote(quote_, ak_, expect_), kPcrDigestValid);
}

TEST_P(QuoteVerifierTest, PcrRelabelledInTheBlob) {
  // Same values, PCR 16 claimed to be PCR 17: the digest still matches, the
  // signed selection does not.
  tpm::PcrBlob blob = *tpm::ParsePcrBlob(quote_.pcr_blob);
  blob.values[2].pcr = 17;
  quote_.pcr_blob = *tpm::SerializePcrBlob(blob.values);
  ExpectOnlyFailure(VerifyQuote(quote_, ak_, expect_), kPcrSelectionValid);
}

TEST_P(QuoteVerifierTest, PcrSelectionChanged) {
  // Values for fewer PCRs than were quoted.
  tpm::PcrBlob blob = *tpm::ParsePcrBlob(quote_.pcr_blob);
  blob.values.pop_back();
  quote_.pcr_blob = *tpm::SerializePcrBlob(blob.values);
  QuoteVerification v = VerifyQuote(quote_, ak_, expect_);
  EXPECT_FALSE(v.checks.Find(kPcrSelectionValid)->passed);
  EXPECT_FALSE(v.checks.Find(kPcrDigestValid)->passed);
  EXPECT_TRUE(v.checks.Find(kQuoteSignatureValid)->passed);
}

TEST_P(QuoteVerifierTest, SignatureBitFlipped) {
  // The last byte of the signature (ECDSA s or the RSA signature).
  quote_.signature.back() ^= 0x01;
  ExpectOnlyFailure(VerifyQuote(quote_, ak_, expect_), kQuoteSignatureValid);
}

TEST_P(QuoteVerifierTest, SignedBytesChanged) {
  // Any change to the attestation breaks the signature (here: the clock).
  quote_.attest[quote_.attest.size() / 2] ^= 0x01;
  QuoteVerification v = VerifyQuote(quote_, ak_, expect_);
  if (v.checks.Find(kQuoteFormatValid)->passed) {
    EXPECT_FALSE(v.checks.Find(kQuoteSignatureValid)->passed);
  }
  EXPECT_FALSE(v.checks.passed());
}

TEST_P(QuoteVerifierTest, AkOfAnotherTpm) {
  trellis::testing::Swtpm other;
  trellis::testing::TempDir other_dir;
  RegisteredAk other_ak = Register(
      trellis::testing::CreateAkWithTools(other, other_dir.path(), GetParam()));
  QuoteVerification v = VerifyQuote(quote_, other_ak, expect_);
  EXPECT_FALSE(v.checks.Find(kQuoteSignatureValid)->passed);
  EXPECT_FALSE(v.checks.Find(kQualifiedSignerValid)->passed);
  EXPECT_TRUE(v.checks.Find(kNonceValid)->passed);
}

TEST_P(QuoteVerifierTest, QualifiedSignerOfAnotherKey) {
  // The same AK registered as if it lived under another parent: the
  // signature verifies, the TPM's qualifiedSigner gives it away.
  ak_.qualified_name =
      *tpm::QualifiedName(ak_.public_area, tpm::HandleName(TPM2_RH_OWNER));
  ExpectOnlyFailure(VerifyQuote(quote_, ak_, expect_), kQualifiedSignerValid);
}

TEST_P(QuoteVerifierTest, WrongHashAlgorithmExpected) {
  expect_.hash = TPM2_ALG_SHA384;
  ExpectOnlyFailure(VerifyQuote(quote_, ak_, expect_), kHashAlgValid);
}

TEST_P(QuoteVerifierTest, ClockGoingBackwards) {
  QuoteVerification v = VerifyQuote(quote_, ak_, expect_);
  expect_.previous = v.clock;
  expect_.previous->clock += 1000000;
  ExpectOnlyFailure(VerifyQuote(quote_, ak_, expect_), kClockMonotonic);
  expect_.previous = v.clock;
  expect_.previous->reset_count += 1;
  ExpectOnlyFailure(VerifyQuote(quote_, ak_, expect_), kClockMonotonic);
  // Replaying the very same quote: the clock did not advance.
  expect_.previous = v.clock;
  ExpectOnlyFailure(VerifyQuote(quote_, ak_, expect_), kClockMonotonic);
}

TEST_P(QuoteVerifierTest, KeyThatIsNotAnAk) {
  ak_.public_area.objectAttributes &= ~TPMA_OBJECT_RESTRICTED;
  QuoteVerification v = VerifyQuote(quote_, ak_, expect_);
  EXPECT_FALSE(v.checks.Find(kAkValid)->passed);
}

TEST_P(QuoteVerifierTest, MalformedQuote) {
  for (std::string keylime::Quote::*part :
       {&keylime::Quote::attest, &keylime::Quote::signature,
        &keylime::Quote::pcr_blob}) {
    keylime::Quote bad = quote_;
    (bad.*part).pop_back();
    QuoteVerification v = VerifyQuote(bad, ak_, expect_);
    ASSERT_EQ(v.checks.results().size(), 1u);
    EXPECT_EQ(v.checks.first_failure()->name, kQuoteFormatValid);
  }
  EXPECT_FALSE(keylime::ParseQuote("x" + keylime::FormatQuote(quote_)).ok());
  EXPECT_FALSE(keylime::ParseQuote("rAAAA:BBBB").ok());
  EXPECT_FALSE(keylime::ParseQuote("r!!!:BBBB:CCCC").ok());
  EXPECT_FALSE(keylime::ParseQuote("").ok());
}

INSTANTIATE_TEST_SUITE_P(EccAndRsa, QuoteVerifierTest,
                         ::testing::Values("ecc", "rsa"));

}  // namespace
}  // namespace trellis::attest
