// The ESAPI host side against a real software TPM, cross-checked with
// tpm2-tools: the same EK as tpm2_createek, quotes that Trellis' verifier
// and tpm2_checkquote both accept, certifications, credential activation
// of tpm2_makecredential's blobs.
#include "attest/host/tpm_device.h"

#include <fstream>

#include "absl/strings/escaping.h"
#include "attest/testing/tpm2_tools.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "attest/verifier/quote_verifier.h"
#include "gtest/gtest.h"
#include "util/file.h"

namespace trellis::attest::host {
namespace {

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

RegisteredAk Register(const std::string& ek_public,
                      const std::string& ak_public) {
  RegisteredAk ak;
  ak.public_area = *tpm::ParsePublic(ak_public);
  ak.qualified_name =
      *tpm::AkQualifiedName(*tpm::ParsePublic(ek_public), ak.public_area);
  return ak;
}

class TpmDeviceTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<TpmDevice>> device =
        TpmDevice::Open(tpm_.tcti());
    ASSERT_TRUE(device.ok()) << device.status();
    device_ = std::move(*device);
  }
  trellis::testing::Swtpm tpm_;
  trellis::testing::TempDir dir_;
  std::unique_ptr<TpmDevice> device_;
};

TEST_P(TpmDeviceTest, QuoteVerifiesInTrellisAndWithTpm2Checkquote) {
  absl::StatusOr<std::string> ek = device_->EkPublic();
  ASSERT_TRUE(ek.ok()) << ek.status();
  absl::StatusOr<KeyBlob> ak = device_->CreateAk(GetParam());
  ASSERT_TRUE(ak.ok()) << ak.status();
  const std::string nonce(32, '\x5a');
  absl::StatusOr<QuoteOutput> quote = device_->Quote(
      *ak, nonce, *ParsePcrList("sha256:0,1,2,3,4,5,6,7,8,9,10,16"));
  ASSERT_TRUE(quote.ok()) << quote.status();
  ASSERT_EQ(quote->pcrs.size(), 12u);
  keylime::Quote keylime_quote{quote->signed_quote.attest,
                               quote->signed_quote.signature,
                               *tpm::SerializePcrBlob(quote->pcrs)};
  QuoteExpectation expect;
  expect.nonce = nonce;
  QuoteVerification v =
      VerifyQuote(keylime_quote, Register(*ek, ak->public_area), expect);
  for (const CheckResult& r : v.checks.results()) {
    EXPECT_TRUE(r.passed) << r.name << ": " << r.detail;
  }

  // tpm2_checkquote, the independent checker.
  const std::string d = dir_.path();
  WriteFile(d + "/q.msg", keylime_quote.attest);
  WriteFile(d + "/q.sig", keylime_quote.signature);
  WriteFile(d + "/q.pcrs", keylime_quote.pcr_blob);
  WriteFile(d + "/ak.pem", *tpm::ToPem(*tpm::ParsePublic(ak->public_area)));
  std::string out;
  EXPECT_EQ(tpm_.RunTools("cd " + d +
                              " && tpm2_checkquote -u ak.pem -m q.msg -s "
                              "q.sig -f q.pcrs -g sha256 -q " +
                              absl::BytesToHexString(nonce),
                          &out),
            0)
      << out;
  // ... which refuses the same quote with another nonce.
  EXPECT_NE(tpm_.RunTools("cd " + d +
                          " && tpm2_checkquote -u ak.pem -m q.msg -s q.sig "
                          "-f q.pcrs -g sha256 -q 00"),
            0);
}

TEST_P(TpmDeviceTest, EkIsTheTcgDefaultEk) {
  const std::string d = dir_.path();
  ASSERT_EQ(tpm_.RunTools("cd " + d +
                          " && tpm2_createek -c ek.ctx -G rsa -u ek.pub && "
                          "tpm2_flushcontext -t"),
            0);
  EXPECT_EQ(*device_->EkPublic(), *ReadFile(d + "/ek.pub"));
  // Asking twice gives the same key, and leaves no handle behind.
  EXPECT_EQ(*device_->EkPublic(), *device_->EkPublic());
  std::string handles;
  tpm_.RunTools("tpm2_getcap handles-transient", &handles);
  EXPECT_EQ(handles, "");
  // swtpm started without swtpm_setup has no EK certificate.
  EXPECT_EQ(device_->EkCertificate().status().code(),
            absl::StatusCode::kNotFound);
}

TEST_P(TpmDeviceTest, CertifiesAnAppKeyWithTheAk) {
  const std::string ek = *device_->EkPublic();
  KeyBlob ak = *device_->CreateAk(GetParam());
  absl::StatusOr<KeyBlob> app = device_->CreateAppKey();
  ASSERT_TRUE(app.ok()) << app.status();
  absl::StatusOr<SignedAttestation> cert =
      device_->Certify(*app, ak, "nonce-bytes");
  ASSERT_TRUE(cert.ok()) << cert.status();
  absl::StatusOr<TPMS_ATTEST> attest = tpm::ParseAttest(cert->attest);
  ASSERT_TRUE(attest.ok());
  EXPECT_EQ(attest->type, TPM2_ST_ATTEST_CERTIFY);
  EXPECT_EQ(tpm::View(attest->attested.certify.name),
            *tpm::ObjectName(*tpm::ParsePublic(app->public_area)));
  EXPECT_EQ(tpm::View(attest->extraData), "nonce-bytes");
  const RegisteredAk registered = Register(ek, ak.public_area);
  EXPECT_EQ(tpm::View(attest->qualifiedSigner), registered.qualified_name);
  auto key = tpm::ToOpenSslKey(registered.public_area);
  EXPECT_TRUE(tpm::VerifyTpmSignature(**key,
                                      *tpm::ParseSignature(cert->signature),
                                      cert->attest, TPM2_ALG_SHA256)
                  .ok());
}

TEST_P(TpmDeviceTest, ActivatesTpm2MakecredentialBlobs) {
  const std::string d = dir_.path();
  const std::string ek = *device_->EkPublic();
  KeyBlob ak = *device_->CreateAk(GetParam());
  WriteFile(d + "/ek.pub", ek);
  WriteFile(d + "/secret", "activation-secret-0123456789");
  const std::string name = absl::BytesToHexString(
      *tpm::ObjectName(*tpm::ParsePublic(ak.public_area)));
  std::string out;
  ASSERT_EQ(tpm_.RunTools("cd " + d +
                              " && tpm2_makecredential -T none -u ek.pub "
                              "-s secret -n " +
                              name + " -o cred",
                          &out),
            0)
      << out;
  // tpm2-tools' file: magic, version, TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET.
  const std::string file = *ReadFile(d + "/cred");
  const size_t id_size =
      (static_cast<uint8_t>(file[8]) << 8) | static_cast<uint8_t>(file[9]);
  const std::string credential = file.substr(8, 2 + id_size);
  const std::string secret = file.substr(10 + id_size);
  absl::StatusOr<std::string> released =
      device_->ActivateCredential(ak, credential, secret);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(*released, "activation-secret-0123456789");
  // Another AK of the same TPM cannot release it.
  KeyBlob other = *device_->CreateAk(GetParam());
  EXPECT_FALSE(device_->ActivateCredential(other, credential, secret).ok());
}

TEST_P(TpmDeviceTest, ExtendsAndReadsPcrs) {
  const auto selection = *ParsePcrList("sha256:15");
  const std::string before = (*device_->ReadPcrs(selection))[0].digest;
  EXPECT_EQ(before, std::string(32, '\0'));
  ASSERT_TRUE(device_->ExtendPcr(15, std::string(32, 'x')).ok());
  const std::string after = (*device_->ReadPcrs(selection))[0].digest;
  EXPECT_EQ(after,
            *tpm::TpmHash(TPM2_ALG_SHA256, before + std::string(32, 'x')));
  EXPECT_FALSE(device_->ExtendPcr(24, std::string(32, 'x')).ok());
  EXPECT_FALSE(ParsePcrList("sha256:24").ok());
  EXPECT_FALSE(ParsePcrList("md5:1").ok());
  EXPECT_FALSE(ParsePcrList("sha256").ok());
}

INSTANTIATE_TEST_SUITE_P(EccAndRsa, TpmDeviceTest,
                         ::testing::Values("ecc", "rsa"));

TEST(TpmDeviceOpenTest, UnreachableTpmIsUnavailable) {
  absl::StatusOr<std::unique_ptr<TpmDevice>> device =
      TpmDevice::Open("swtpm:host=127.0.0.1,port=1");
  ASSERT_FALSE(device.ok());
  EXPECT_EQ(device.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace trellis::attest::host
