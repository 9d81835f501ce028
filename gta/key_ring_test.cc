#include "gta/key_ring.h"

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

TEST_F(KeyRingTest, TokenKeySizeIsConfigurable) {
  crypto::KeyWrapping plain{
      [](absl::string_view, absl::string_view der) {
        return absl::StatusOr<std::string>(std::string(der));
      },
      [](absl::string_view, absl::string_view wrapped) {
        return absl::StatusOr<std::string>(std::string(wrapped));
      }};
  EXPECT_FALSE(
      KeyRing::Open(storage_.get(), plain, absl::Hours(1), absl::Now, 1024)
          .ok());
  auto ring =
      KeyRing::Open(storage_.get(), plain, absl::Hours(1), absl::Now, 2048)
          .value();
  EXPECT_EQ(EVP_PKEY_bits(ring->Current(kTokenKey)->key.get()), 2048);
  EXPECT_EQ(EVP_PKEY_bits(ring->Current(kNonceKey)->key.get()), 3072);
}

}  // namespace
}  // namespace trellis::gta
