#include "gta/key_ring.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "crypto/rsa_pss.h"
#include "gtest/gtest.h"
#include "storage/rocksdb/gta_storage.h"
#include "util/test_util.h"

namespace trellis::gta {
namespace {

class KeyRingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(storage::rocksdb::Database::Open({dir_.path()}).value());
    storage_ = std::make_unique<storage::rocksdb::RocksGtaStorage>(db_.get());
  }
  std::unique_ptr<KeyRing> Open() {
    // Wrapping is checked: the stored key is the reverse of the real one.
    crypto::KeyWrapping reverse{
        [this](absl::string_view id, absl::string_view der) {
          wrapped_ids_.emplace_back(id);
          return absl::StatusOr<std::string>(
              std::string(der.rbegin(), der.rend()));
        },
        [](absl::string_view, absl::string_view wrapped) {
          return absl::StatusOr<std::string>(
              std::string(wrapped.rbegin(), wrapped.rend()));
        }};
    auto ring = KeyRing::Open(storage_.get(), reverse, absl::Hours(1),
                              [this] { return now_; });
    EXPECT_TRUE(ring.ok()) << ring.status();
    return std::move(ring).value_or(nullptr);
  }

  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  std::vector<std::string> wrapped_ids_;
  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksGtaStorage> storage_;
};

TEST_F(KeyRingTest, MakesKeepsAndRotatesKeys) {
  auto ring = Open();
  EXPECT_TRUE(wrapped_ids_.empty());  // Made when first needed.
  const SigningKey token = ring->Current(kTokenKey).value();
  EXPECT_EQ(wrapped_ids_, std::vector<std::string>{"gta/TSK/1"});
  EXPECT_EQ(token.key_id(), "TSK-v1");
  auto signature =
      crypto::SignRsaPss(*token.key, crypto::PssHash::kSha256, "claims");
  ASSERT_TRUE(signature.ok());

  // A restart loads the same keys (no new ones).
  ring = Open();
  EXPECT_TRUE(crypto::VerifyRsaPss(*ring->Current(kTokenKey)->key,
                                   crypto::PssHash::kSha256, "claims",
                                   *signature)
                  .ok());

  // After a rotation the new version signs; the old one verifies for the
  // overlap, then no longer.
  auto rotated = ring->Rotate(kTokenKey);
  ASSERT_TRUE(rotated.ok()) << rotated.status();
  EXPECT_EQ(rotated->version, 2u);
  EXPECT_EQ(ring->Current(kTokenKey)->version, 2u);
  EXPECT_EQ(wrapped_ids_.size(), 2u);
  ASSERT_EQ(ring->Verifying(kTokenKey).size(), 2u);
  EXPECT_EQ(ring->Verifying(kTokenKey)[1].version, 1u);
  now_ += absl::Minutes(59);
  EXPECT_EQ(ring->Verifying(kTokenKey).size(), 2u);
  now_ += absl::Minutes(2);
  ASSERT_EQ(ring->Verifying(kTokenKey).size(), 1u);
  EXPECT_EQ(ring->Verifying(kTokenKey)[0].version, 2u);
  // Others are untouched; unknown names refused.
  EXPECT_EQ(ring->Current(kNonceKey)->version, 1u);
  EXPECT_EQ(ring->Rotate("PSK").status().code(),
            absl::StatusCode::kInvalidArgument);
  // The rotation survived a restart.
  ring = Open();
  EXPECT_EQ(ring->Current(kTokenKey)->version, 2u);
}

// The number of prime factors of an RSA key.
int Primes(const EVP_PKEY* key) {
  static const char* const kFactors[] = {
      OSSL_PKEY_PARAM_RSA_FACTOR1, OSSL_PKEY_PARAM_RSA_FACTOR2,
      OSSL_PKEY_PARAM_RSA_FACTOR3, OSSL_PKEY_PARAM_RSA_FACTOR4,
      OSSL_PKEY_PARAM_RSA_FACTOR5};
  int count = 0;
  for (const char* factor : kFactors) {
    BIGNUM* value = nullptr;
    if (EVP_PKEY_get_bn_param(key, factor, &value) != 1) break;
    BN_free(value);
    ++count;
  }
  return count;
}

TEST_F(KeyRingTest, TokenKeyShapeIsConfigurable) {
  crypto::KeyWrapping plain{
      [](absl::string_view, absl::string_view der) {
        return absl::StatusOr<std::string>(std::string(der));
      },
      [](absl::string_view, absl::string_view wrapped) {
        return absl::StatusOr<std::string>(std::string(wrapped));
      }};
  EXPECT_FALSE(
      KeyRing::Open(storage_.get(), plain, absl::Hours(1), absl::Now, {1024, 2})
          .ok());
  EXPECT_FALSE(
      KeyRing::Open(storage_.get(), plain, absl::Hours(1), absl::Now, {3072, 4})
          .ok());
  auto ring =
      KeyRing::Open(storage_.get(), plain, absl::Hours(1), absl::Now, {2048, 2})
          .value();
  EXPECT_EQ(EVP_PKEY_bits(ring->Current(kTokenKey)->key.get()), 2048);
  EXPECT_EQ(Primes(ring->Current(kTokenKey)->key.get()), 2);
  EXPECT_EQ(EVP_PKEY_bits(ring->Current(kNonceKey)->key.get()), 3072);
  EXPECT_EQ(Primes(ring->Current(kNonceKey)->key.get()), 2);
}

// The default TSK is three-prime RSA-3072: it survives wrapping and a
// reopen, and its signatures verify with the public key alone.
TEST_F(KeyRingTest, DefaultTokenKeyIsThreePrimeRsa3072) {
  std::unique_ptr<KeyRing> ring = Open();
  const SigningKey tsk = ring->Current(kTokenKey).value();
  EXPECT_EQ(EVP_PKEY_bits(tsk.key.get()), 3072);
  EXPECT_EQ(Primes(tsk.key.get()), 3);
  EXPECT_EQ(Primes(ring->Current(kRecordKey)->key.get()), 2);
  const std::string signature =
      crypto::SignRsaPss(*tsk.key, crypto::PssHash::kSha256, "claims").value();
  // The public half only, as a verifier has it.
  unsigned char* der = nullptr;
  const int size = i2d_PUBKEY(tsk.key.get(), &der);
  ASSERT_GT(size, 0);
  const unsigned char* cursor = der;
  EVP_PKEY* public_key = d2i_PUBKEY(nullptr, &cursor, size);
  OPENSSL_free(der);
  ASSERT_NE(public_key, nullptr);
  EXPECT_TRUE(crypto::VerifyRsaPss(*public_key, crypto::PssHash::kSha256,
                                   "claims", signature)
                  .ok());
  EXPECT_FALSE(crypto::VerifyRsaPss(*public_key, crypto::PssHash::kSha256,
                                    "claimz", signature)
                   .ok());
  EVP_PKEY_free(public_key);
  ring = Open();
  const SigningKey reopened = ring->Current(kTokenKey).value();
  EXPECT_EQ(reopened.version, tsk.version);
  EXPECT_EQ(Primes(reopened.key.get()), 3);
  EXPECT_EQ(EVP_PKEY_eq(reopened.key.get(), tsk.key.get()), 1);
}

}  // namespace
}  // namespace trellis::gta
