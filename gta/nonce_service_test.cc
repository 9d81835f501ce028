#include "gta/nonce_service.h"

#include "absl/strings/escaping.h"
#include "crypto/rsa_pss.h"
#include "gtest/gtest.h"
#include "storage/rocksdb/gta_storage.h"
#include "util/test_util.h"

namespace trellis::gta {
namespace {

class NonceServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(storage::rocksdb::Database::Open({dir_.path()}).value());
    storage_ = std::make_unique<storage::rocksdb::RocksGtaStorage>(db_.get());
    crypto::KeyWrapping plain{
        [](absl::string_view, absl::string_view der) {
          return absl::StatusOr<std::string>(std::string(der));
        },
        [](absl::string_view, absl::string_view wrapped) {
          return absl::StatusOr<std::string>(std::string(wrapped));
        }};
    keys_ = KeyRing::Open(storage_.get(), plain, absl::Minutes(10), [this] {
              return now_;
            }).value();
  }

  absl::Time now_ = absl::FromUnixSeconds(1800000000);
  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksGtaStorage> storage_;
  std::unique_ptr<KeyRing> keys_;
};

TEST_F(NonceServiceTest, NoncesAreSignedSingleUseAndExpire) {
  NonceService nonces(keys_.get(), absl::Seconds(120), [this] { return now_; });
  auto nonce = nonces.Issue();
  ASSERT_TRUE(nonce.ok()) << nonce.status();
  EXPECT_EQ((*nonce)["iat"], 1800000000);
  std::string value;
  ASSERT_TRUE(
      absl::Base64Unescape((*nonce)["value"].get<std::string>(), &value));
  EXPECT_EQ(value.size(), 64u);
  // The signature is NSK's RSA-PSS over iat || value (base64).
  std::string signature;
  ASSERT_TRUE(absl::Base64Unescape((*nonce)["signature"].get<std::string>(),
                                   &signature));
  EXPECT_TRUE(crypto::VerifyRsaPss(
                  *keys_->Current(kNonceKey)->key, crypto::PssHash::kSha256,
                  NonceSigningInput(1800000000, (*nonce)["value"]), signature)
                  .ok());

  EXPECT_TRUE(nonces.Consume(nonce->dump()).ok());
  // Once only.
  EXPECT_EQ(nonces.Consume(nonce->dump()).message(), "Invalid nonce.");

  // Forged: another value under the same signature.
  auto second = nonces.Issue();
  nlohmann::json forged = *second;
  forged["value"] = (*nonce)["value"];
  EXPECT_EQ(nonces.Consume(forged.dump()).message(), "Invalid nonce.");
  forged = *second;
  forged["iat"] = 1800000001;
  EXPECT_EQ(nonces.Consume(forged.dump()).message(), "Invalid nonce.");
  EXPECT_EQ(nonces.Consume("not json").message(), "Invalid nonce.");
  EXPECT_EQ(nonces.Consume("{}").message(), "Invalid nonce.");

  // Expired after 120 s.
  now_ += absl::Seconds(121);
  EXPECT_EQ(nonces.Consume(second->dump()).message(), "Nonce expired.");

  // A nonce from before a restart is refused; after an NSK rotation the old
  // key's nonces still verify.
  auto before_rotation = nonces.Issue();
  ASSERT_TRUE(keys_->Rotate(kNonceKey).ok());
  EXPECT_TRUE(nonces.Consume(before_rotation->dump()).ok());
  auto old_run = nonces.Issue();
  now_ += absl::Seconds(1);
  NonceService restarted(keys_.get(), absl::Seconds(120),
                         [this] { return now_; });
  EXPECT_EQ(restarted.Consume(old_run->dump()).message(), "Invalid nonce.");
  auto fresh = restarted.Issue();
  EXPECT_TRUE(restarted.Consume(fresh->dump()).ok());
}

}  // namespace
}  // namespace trellis::gta
