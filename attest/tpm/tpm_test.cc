// TPM structures, names and keys, checked against objects and quotes that
// tpm2-tools made on a real software TPM.
#include <string>

#include "attest/testing/tpm2_tools.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/pcr_blob.h"
#include "attest/tpm/structures.h"
#include "gtest/gtest.h"

namespace trellis::attest::tpm {
namespace {

class TpmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ak_ = trellis::testing::CreateAkWithTools(tpm_, dir_.path(), "ecc");
    quote_ = trellis::testing::QuoteWithTools(tpm_, ak_, "sha256:0,1,16",
                                              "00112233");
  }
  trellis::testing::Swtpm tpm_;
  trellis::testing::TempDir dir_;
  trellis::testing::ToolsAk ak_;
  trellis::testing::ToolsQuote quote_;
};

TEST_F(TpmTest, NamesMatchTheTpms) {
  absl::StatusOr<TPMT_PUBLIC> ek = ParsePublic(ak_.ek_public);
  absl::StatusOr<TPMT_PUBLIC> ak = ParsePublic(ak_.ak_public);
  ASSERT_TRUE(ek.ok()) << ek.status();
  ASSERT_TRUE(ak.ok()) << ak.status();
  EXPECT_EQ(ek->type, TPM2_ALG_RSA);
  EXPECT_EQ(ak->type, TPM2_ALG_ECC);
  EXPECT_EQ(*ObjectName(*ak), ak_.ak_name);
  // The EK is a primary key of the endorsement hierarchy; the AK its child.
  absl::StatusOr<std::string> ek_qn =
      QualifiedName(*ek, HandleName(TPM2_RH_ENDORSEMENT));
  ASSERT_TRUE(ek_qn.ok());
  EXPECT_EQ(*QualifiedName(*ak, *ek_qn), ak_.ak_qualified_name);
  EXPECT_EQ(*AkQualifiedName(*ek, *ak), ak_.ak_qualified_name);
  // Re-marshalling gives the TPM's bytes back.
  EXPECT_EQ(MarshalPublic(*ak), ak_.ak_public);
}

TEST_F(TpmTest, ParsesTheQuote) {
  absl::StatusOr<TPMS_ATTEST> attest = ParseAttest(quote_.attest);
  ASSERT_TRUE(attest.ok()) << attest.status();
  EXPECT_EQ(attest->type, TPM2_ST_ATTEST_QUOTE);
  EXPECT_EQ(View(attest->extraData), std::string("\x00\x11\x22\x33", 4));
  EXPECT_EQ(View(attest->qualifiedSigner), ak_.ak_qualified_name);
  EXPECT_EQ(attest->clockInfo.safe, TPM2_YES);
  EXPECT_EQ(MarshalAttest(*attest), quote_.attest);
  absl::StatusOr<TPMT_SIGNATURE> sig = ParseSignature(quote_.signature);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_EQ(sig->sigAlg, TPM2_ALG_ECDSA);
  EXPECT_EQ(MarshalSignature(*sig), quote_.signature);

  absl::StatusOr<TPMT_PUBLIC> ak = ParsePublic(ak_.ak_public);
  absl::StatusOr<crypto::PrivateKey> key = ToOpenSslKey(*ak);
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_TRUE(
      VerifyTpmSignature(**key, *sig, quote_.attest, TPM2_ALG_SHA256).ok());
  EXPECT_EQ(
      VerifyTpmSignature(**key, *sig, quote_.attest + "x", TPM2_ALG_SHA256)
          .code(),
      absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(
      VerifyTpmSignature(**key, *sig, quote_.attest, TPM2_ALG_SHA384).code(),
      absl::StatusCode::kFailedPrecondition);
}

TEST_F(TpmTest, PcrBlobRoundTripsTpm2ToolsOutput) {
  absl::StatusOr<PcrBlob> blob = ParsePcrBlob(quote_.pcr_blob);
  ASSERT_TRUE(blob.ok()) << blob.status();
  ASSERT_EQ(blob->values.size(), 3u);
  EXPECT_EQ(blob->values[0].pcr, 0);
  EXPECT_EQ(blob->values[1].pcr, 1);
  EXPECT_EQ(blob->values[2].pcr, 16);
  EXPECT_EQ(blob->values[2].bank, TPM2_ALG_SHA256);
  EXPECT_EQ(DescribeSelection(blob->selection), "sha256:0,1,16");
  absl::StatusOr<std::string> again = SerializePcrBlob(blob->values);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, quote_.pcr_blob);
}

TEST_F(TpmTest, PemOfThePublicAreaMatchesTpm2Tools) {
  std::string pem;
  ASSERT_EQ(tpm_.RunTools("cd " + dir_.path() +
                              " && tpm2_print -t TPM2B_PUBLIC -f pem ak.pub",
                          &pem),
            0)
      << pem;
  absl::StatusOr<TPMT_PUBLIC> ak = ParsePublic(ak_.ak_public);
  EXPECT_EQ(*PemToDer(*ToPem(*ak)), *PemToDer(pem));
}

TEST(TpmStructuresTest, RejectsEveryTruncationAndTrailingBytes) {
  trellis::testing::Swtpm tpm;
  trellis::testing::TempDir dir;
  auto ak = trellis::testing::CreateAkWithTools(tpm, dir.path(), "rsa");
  auto quote =
      trellis::testing::QuoteWithTools(tpm, ak, "sha256:0", "aabbccdd");
  for (size_t n = 0; n < quote.attest.size(); ++n) {
    EXPECT_EQ(ParseAttest(quote.attest.substr(0, n)).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  for (size_t n = 0; n < quote.signature.size(); ++n) {
    EXPECT_FALSE(ParseSignature(quote.signature.substr(0, n)).ok());
  }
  for (size_t n = 0; n < ak.ak_public.size(); ++n) {
    EXPECT_FALSE(ParsePublic(ak.ak_public.substr(0, n)).ok());
  }
  for (size_t n = 0; n < quote.pcr_blob.size(); ++n) {
    EXPECT_FALSE(ParsePcrBlob(quote.pcr_blob.substr(0, n)).ok());
  }
  EXPECT_FALSE(ParseAttest(quote.attest + "x").ok());
  EXPECT_FALSE(ParsePublic(ak.ak_public + "x").ok());
  std::string bad_magic = quote.attest;
  bad_magic[0] ^= 1;
  EXPECT_FALSE(ParseAttest(bad_magic).ok());
  // The RSA AK verifies its RSASSA quote.
  auto sig = ParseSignature(quote.signature);
  ASSERT_TRUE(sig.ok());
  EXPECT_EQ(sig->sigAlg, TPM2_ALG_RSASSA);
  auto key = ToOpenSslKey(*ParsePublic(ak.ak_public));
  ASSERT_TRUE(key.ok()) << key.status();
  EXPECT_TRUE(
      VerifyTpmSignature(**key, *sig, quote.attest, TPM2_ALG_SHA256).ok());
}

TEST(PcrBlobTest, RejectsInconsistentBlobs) {
  std::vector<PcrValue> values = {{TPM2_ALG_SHA256, 0, std::string(32, 'a')},
                                  {TPM2_ALG_SHA256, 10, std::string(32, 'b')}};
  absl::StatusOr<std::string> blob = SerializePcrBlob(values);
  ASSERT_TRUE(blob.ok());
  ASSERT_TRUE(ParsePcrBlob(*blob).ok());
  std::string bad = *blob;
  bad[4] = 0x55;  // Unknown bank.
  EXPECT_FALSE(ParsePcrBlob(bad).ok());
  bad = *blob;
  bad[7] |= 0x02;  // One more PCR selected than digests given.
  EXPECT_FALSE(ParsePcrBlob(bad).ok());
  bad = *blob;
  bad[0] = 17;  // More banks than slots.
  EXPECT_FALSE(ParsePcrBlob(bad).ok());
  bad = *blob;
  bad[132] = 2;  // Announces two digest lists.
  EXPECT_FALSE(ParsePcrBlob(bad).ok());
  bad = *blob;
  bad[136 + 4] = 20;  // A SHA-256 digest of 20 bytes.
  EXPECT_FALSE(ParsePcrBlob(bad).ok());
  // Out-of-order or wrong-sized values cannot be serialized.
  std::swap(values[0], values[1]);
  EXPECT_FALSE(SerializePcrBlob(values).ok());
  values[0].digest = "short";
  EXPECT_FALSE(SerializePcrBlob(values).ok());
}

}  // namespace
}  // namespace trellis::attest::tpm
