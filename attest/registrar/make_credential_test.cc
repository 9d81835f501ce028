// Software MakeCredential against the real TPM's ActivateCredential.
#include "attest/registrar/make_credential.h"

#include "absl/strings/escaping.h"
#include "attest/host/tpm_device.h"
#include "attest/testing/swtpm.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "gtest/gtest.h"

namespace trellis::attest {
namespace {

TEST(MakeCredentialTest, OnlyTheNamedAkInThatTpmReleasesTheSecret) {
  trellis::testing::Swtpm tpm;
  auto device = *host::TpmDevice::Open(tpm.tcti());
  const TPMT_PUBLIC ek = *tpm::ParsePublic(*device->EkPublic());
  for (const char* algorithm : {"ecc", "rsa"}) {
    const host::KeyBlob ak = *device->CreateAk(algorithm);
    const std::string name =
        *tpm::ObjectName(*tpm::ParsePublic(ak.public_area));
    const std::string secret = "0123456789abcdef0123456789abcdef";
    absl::StatusOr<Credential> credential = MakeCredential(ek, name, secret);
    ASSERT_TRUE(credential.ok()) << credential.status();
    absl::StatusOr<std::string> released = device->ActivateCredential(
        ak, credential->credential_blob, credential->encrypted_secret);
    ASSERT_TRUE(released.ok()) << released.status();
    EXPECT_EQ(*released, secret);

    // Sealed to another Name: the TPM refuses (integrity check fails).
    std::string other_name = name;
    other_name.back() ^= 1;
    Credential wrong = *MakeCredential(ek, other_name, secret);
    EXPECT_FALSE(device
                     ->ActivateCredential(ak, wrong.credential_blob,
                                          wrong.encrypted_secret)
                     .ok());
  }
  // An EK of another TPM cannot open it either.
  trellis::testing::Swtpm other;
  auto other_device = *host::TpmDevice::Open(other.tcti());
  const host::KeyBlob ak = *device->CreateAk("ecc");
  const TPMT_PUBLIC other_ek = *tpm::ParsePublic(*other_device->EkPublic());
  Credential foreign = *MakeCredential(
      other_ek, *tpm::ObjectName(*tpm::ParsePublic(ak.public_area)), "s");
  EXPECT_FALSE(device
                   ->ActivateCredential(ak, foreign.credential_blob,
                                        foreign.encrypted_secret)
                   .ok());
}

TEST(MakeCredentialTest, EccEkReleasesTheSecretToItsAk) {
  trellis::testing::Swtpm tpm;
  auto device = *host::TpmDevice::Open(tpm.tcti());
  device->UseEccEk(true);
  const TPMT_PUBLIC ek = *tpm::ParsePublic(*device->EkPublic());
  ASSERT_EQ(ek.type, TPM2_ALG_ECC);
  // The same EK tpm2_createek makes.
  std::string out;
  ASSERT_EQ(tpm.RunTools("cd " + tpm.state_dir() +
                             " && tpm2_createek -c ek.ctx -G ecc -u ek.pub && "
                             "tpm2_flushcontext -t && cat ek.pub | base64 -w0",
                         &out),
            0)
      << out;
  std::string tools_ek;
  ASSERT_TRUE(absl::Base64Unescape(out, &tools_ek));
  EXPECT_EQ(tools_ek, *device->EkPublic());
  const host::KeyBlob ak = *device->CreateAk("ecc");
  const std::string name = *tpm::ObjectName(*tpm::ParsePublic(ak.public_area));
  const std::string secret = "ecc-ek-credential-secret";
  absl::StatusOr<Credential> credential = MakeCredential(ek, name, secret);
  ASSERT_TRUE(credential.ok()) << credential.status();
  absl::StatusOr<std::string> released = device->ActivateCredential(
      ak, credential->credential_blob, credential->encrypted_secret);
  ASSERT_TRUE(released.ok()) << released.status();
  EXPECT_EQ(*released, secret);
  std::string other = name;
  other.back() ^= 1;
  Credential wrong = *MakeCredential(ek, other, secret);
  EXPECT_FALSE(device
                   ->ActivateCredential(ak, wrong.credential_blob,
                                        wrong.encrypted_secret)
                   .ok());
}

TEST(MakeCredentialTest, RejectsUnusableInput) {
  TPMT_PUBLIC ecc{};
  ecc.type = TPM2_ALG_ECC;
  ecc.nameAlg = TPM2_ALG_SHA256;
  EXPECT_EQ(MakeCredential(ecc, "name", "s").status().code(),
            absl::StatusCode::kInvalidArgument);  // Not a storage key.
  TPMT_PUBLIC rsa{};
  rsa.type = TPM2_ALG_RSA;
  rsa.nameAlg = TPM2_ALG_SHA256;
  EXPECT_EQ(MakeCredential(rsa, "name", "s").status().code(),
            absl::StatusCode::kInvalidArgument);  // Not a storage key.
}

TEST(KdfATest, MatchesAnIndependentComputation) {
  // KDFa(SHA256, key, "STORAGE", "ctx", "", 128) computed by hand with
  // Python: hmac.new(key, b"\0\0\0\1" + b"STORAGE\0" + b"ctx" +
  // b"\0\0\0\x80", sha256).digest()[:16], key = b"k" * 32.
  absl::StatusOr<std::string> out =
      KdfA(TPM2_ALG_SHA256, std::string(32, 'k'), "STORAGE", "ctx", "", 128);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->size(), 16u);
  EXPECT_EQ(
      *out,
      std::string(
          "\x28\x3e\xd6\xdb\x62\x17\xae\xe9\x7d\xaa\xae\x63\x96\xb9\x5c\x1d",
          16));
  // Longer outputs chain counter blocks.
  EXPECT_EQ(KdfA(TPM2_ALG_SHA256, "k", "L", "", "", 512)->size(), 64u);
  EXPECT_FALSE(KdfA(TPM2_ALG_SHA256, "k", "L", "", "", 7).ok());
}

}  // namespace
}  // namespace trellis::attest
