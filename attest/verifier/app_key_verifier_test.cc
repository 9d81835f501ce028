// App key certificates from real TPMs: valid when the host's AK certified
// the named key; refused when another AK (of the same or another TPM)
// signed it, when it names another key, or when it is for another nonce.
#include "attest/verifier/app_key_verifier.h"

#include "attest/host/tpm_device.h"
#include "attest/keylime/app_key_certificate.h"
#include "attest/testing/swtpm.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "gtest/gtest.h"

namespace trellis::attest {
namespace {

RegisteredAk Registered(host::TpmDevice& device, const host::KeyBlob& ak) {
  RegisteredAk r;
  r.public_area = *tpm::ParsePublic(ak.public_area);
  r.qualified_name = *tpm::AkQualifiedName(
      *tpm::ParsePublic(*device.EkPublic()), r.public_area);
  return r;
}

std::string Certificate(host::TpmDevice& device, const host::KeyBlob& app,
                        const host::KeyBlob& ak, const std::string& nonce) {
  auto certified = *device.Certify(app, ak, nonce);
  const std::string pem = *tpm::ToPem(*tpm::ParsePublic(app.public_area));
  return keylime::EncodeAppKeyCertificate(
      {pem, app.public_area, certified.attest, certified.signature});
}

Checks Verify(const std::string& cert, const std::string& pem,
              const RegisteredAk& ak, const std::string& nonce) {
  Checks checks;
  VerifyAppKeyCertificate(cert, pem, ak, nonce, TPM2_ALG_SHA256, checks);
  return checks;
}

TEST(AppKeyVerifierTest, OnlyTheHostsAkCertifiesItsAppKey) {
  trellis::testing::Swtpm tpm, other_tpm;
  auto device = *host::TpmDevice::Open(tpm.tcti());
  auto other = *host::TpmDevice::Open(other_tpm.tcti());
  const host::KeyBlob ak = *device->CreateAk("ecc");
  const host::KeyBlob app = *device->CreateAppKey();
  const std::string pem = *tpm::ToPem(*tpm::ParsePublic(app.public_area));
  const std::string nonce(32, 'n');
  const RegisteredAk registered = Registered(*device, ak);

  Checks good =
      Verify(Certificate(*device, app, ak, nonce), pem, registered, nonce);
  EXPECT_TRUE(good.passed()) << good.first_failure()->detail;

  // Certified by another AK of the same TPM, or by another TPM's AK.
  const host::KeyBlob second_ak = *device->CreateAk("ecc");
  Checks by_other_ak = Verify(Certificate(*device, app, second_ak, nonce), pem,
                              registered, nonce);
  EXPECT_FALSE(by_other_ak.Find(kAppKeyCertificateValid)->passed);
  const host::KeyBlob foreign_ak = *other->CreateAk("ecc");
  const host::KeyBlob foreign_app = *other->CreateAppKey();
  Checks foreign =
      Verify(Certificate(*other, foreign_app, foreign_ak, nonce),
             *tpm::ToPem(*tpm::ParsePublic(foreign_app.public_area)),
             registered, nonce);
  EXPECT_FALSE(foreign.Find(kAppKeyCertificateValid)->passed);

  // A valid certification of one key claimed for another.
  const host::KeyBlob app2 = *device->CreateAppKey();
  Checks wrong_key = Verify(Certificate(*device, app, ak, nonce),
                            *tpm::ToPem(*tpm::ParsePublic(app2.public_area)),
                            registered, nonce);
  EXPECT_TRUE(wrong_key.Find(kAppKeyCertificateValid)->passed);
  EXPECT_FALSE(wrong_key.Find(kAppKeyPublicMatchesCert)->passed);

  // Made for another nonce.
  Checks stale = Verify(Certificate(*device, app, ak, std::string(32, 'o')),
                        pem, registered, nonce);
  EXPECT_FALSE(stale.Find(kAppKeyCertificateValid)->passed);

  // Not a certificate at all.
  Checks garbage = Verify("bm90IGpzb24=", pem, registered, nonce);
  EXPECT_FALSE(garbage.Find(kAppKeyCertificateValid)->passed);
  EXPECT_FALSE(garbage.Find(kAppKeyPublicMatchesCert)->passed);
}

}  // namespace
}  // namespace trellis::attest
