#include "crypto/signer.h"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <string>

#include "crypto/keys.h"
#include "gtest/gtest.h"

namespace trellis::crypto {
namespace {

keyspb::Specification Ecdsa(keyspb::Specification::ECDSA::Curve curve) {
  keyspb::Specification spec;
  spec.mutable_ecdsa_params()->set_curve(curve);
  return spec;
}

keyspb::Specification Rsa(int bits) {
  keyspb::Specification spec;
  spec.mutable_rsa_params()->set_bits(bits);
  return spec;
}

keyspb::Specification Ed25519() {
  keyspb::Specification spec;
  spec.mutable_ed25519_params();
  return spec;
}

class SignerTest
    : public ::testing::TestWithParam<std::pair<
          keyspb::Specification, sigpb::DigitallySigned::SignatureAlgorithm>> {
};

TEST_P(SignerTest, SignsAndVerifiesAndRejectsTampering) {
  auto key = GenerateKey(GetParam().first);
  ASSERT_TRUE(key.ok()) << key.status();
  auto algo = SignatureAlgorithmOf(**key);
  ASSERT_TRUE(algo.ok());
  EXPECT_EQ(*algo, GetParam().second);

  auto pub = MarshalPublicKey(**key);
  ASSERT_TRUE(pub.ok());
  // The private key survives a DER round trip and signs for the same public
  // key.
  auto der = MarshalPrivateKey(**key);
  ASSERT_TRUE(der.ok());
  auto reparsed = ParsePrivateKey(*der);
  ASSERT_TRUE(reparsed.ok()) << reparsed.status();
  EXPECT_EQ(*MarshalPublicKey(**reparsed), *pub);

  Signer signer(std::move(*reparsed));
  const std::string message = "log root bytes";
  auto sig = signer.Sign(message);
  ASSERT_TRUE(sig.ok()) << sig.status();
  EXPECT_TRUE(VerifySignature(*pub, message, *sig).ok());

  EXPECT_EQ(VerifySignature(*pub, "log root byteS", *sig).code(),
            absl::StatusCode::kFailedPrecondition);
  std::string flipped = *sig;
  flipped[flipped.size() / 2] ^= 0x01;
  EXPECT_FALSE(VerifySignature(*pub, message, flipped).ok());
  EXPECT_EQ(VerifySignature("garbage", message, *sig).code(),
            absl::StatusCode::kInvalidArgument);

  // Another key's signature does not verify.
  auto other = GenerateKey(GetParam().first);
  ASSERT_TRUE(other.ok());
  auto other_sig = Signer(std::move(*other)).Sign(message);
  ASSERT_TRUE(other_sig.ok());
  EXPECT_FALSE(VerifySignature(*pub, message, *other_sig).ok());
}

INSTANTIATE_TEST_SUITE_P(
    AllAlgorithms, SignerTest,
    ::testing::Values(
        std::make_pair(keyspb::Specification(), sigpb::DigitallySigned::ECDSA),
        std::make_pair(Ecdsa(keyspb::Specification::ECDSA::P256),
                       sigpb::DigitallySigned::ECDSA),
        std::make_pair(Ecdsa(keyspb::Specification::ECDSA::P384),
                       sigpb::DigitallySigned::ECDSA),
        std::make_pair(Rsa(0), sigpb::DigitallySigned::RSA),
        std::make_pair(Ed25519(), sigpb::DigitallySigned::ED25519)));

TEST(KeysTest, DefaultSpecIsP256) {
  auto key = GenerateKey(keyspb::Specification());
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(EVP_PKEY_get_bits(key->get()), 256);
}

TEST(KeysTest, RefusesWeakRsa) {
  EXPECT_EQ(GenerateKey(Rsa(1024)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(KeysTest, RefusesGarbageKeys) {
  EXPECT_FALSE(ParsePrivateKey("not a key").ok());
  EXPECT_FALSE(ParsePrivateKey("").ok());
  EXPECT_FALSE(
      ParsePrivateKeyPem("-----BEGIN PRIVATE KEY-----\nAAAA\n", "").ok());
}

TEST(KeysTest, ParsesPem) {
  auto key = GenerateKey(keyspb::Specification());
  ASSERT_TRUE(key.ok());
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, key->get(), nullptr, nullptr, 0,
                                     nullptr, nullptr),
            1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string pem(data, len);
  BIO_free(bio);
  auto parsed = ParsePrivateKeyPem(pem, "");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*MarshalPublicKey(**parsed), *MarshalPublicKey(**key));
}

TEST(KeysTest, ParsesPublicKeyPemAndDer) {
  auto key = GenerateKey(Ed25519());
  ASSERT_TRUE(key.ok());
  const std::string der = *MarshalPublicKey(**key);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio, key->get()), 1);
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  const std::string pem(data, len);
  BIO_free(bio);
  for (const std::string& encoded : {der, pem}) {
    auto parsed = ParsePublicKey(encoded);
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*MarshalPublicKey(**parsed), der);
  }
  EXPECT_FALSE(ParsePublicKey(der + "x").ok());
  EXPECT_FALSE(ParsePublicKey("").ok());
  EXPECT_FALSE(ParsePublicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n").ok());
}

}  // namespace
}  // namespace trellis::crypto
