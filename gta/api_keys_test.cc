#include "gta/api_keys.h"

#include "gtest/gtest.h"
#include "storage/rocksdb/gta_storage.h"
#include "util/test_util.h"

namespace trellis::gta {
namespace {

TEST(ApiKeyManagerTest, RegistersAuthenticatesAndRotates) {
  testing::TempDir dir;
  auto db = storage::rocksdb::Database::Open({dir.path()}).value();
  storage::rocksdb::RocksGtaStorage storage(db.get());
  ApiKeyManager keys(&storage);
  auto alice = keys.Register();
  ASSERT_TRUE(alice.ok()) << alice.status();
  EXPECT_EQ(alice->user_id.size(), 36u);
  EXPECT_EQ(alice->api_key.size(), 32u);
  for (char c : alice->api_key) EXPECT_TRUE(std::isalnum(c)) << c;
  // Only the salted PBKDF2 is stored.
  auto stored = storage.GetSetting("apikey/" + alice->user_id).value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->find(alice->api_key), std::string::npos);
  EXPECT_EQ(stored->size(), 48u);

  EXPECT_TRUE(keys.Authenticate(alice->user_id, alice->api_key).ok());
  EXPECT_TRUE(
      keys.Authenticate(alice->user_id, alice->api_key).ok());  // Remembered.
  std::string wrong = alice->api_key;
  wrong[0] = wrong[0] == 'a' ? 'b' : 'a';
  EXPECT_EQ(keys.Authenticate(alice->user_id, wrong).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(keys.Authenticate("nobody", alice->api_key).code(),
            absl::StatusCode::kUnauthenticated);
  auto bob = keys.Register();
  EXPECT_EQ(keys.Authenticate(bob->user_id, alice->api_key).code(),
            absl::StatusCode::kUnauthenticated);

  auto rotated = keys.Rotate(alice->user_id, alice->api_key);
  ASSERT_TRUE(rotated.ok());
  EXPECT_NE(rotated->api_key, alice->api_key);
  EXPECT_EQ(keys.Authenticate(alice->user_id, alice->api_key).code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE(keys.Authenticate(alice->user_id, rotated->api_key).ok());
  EXPECT_EQ(keys.Rotate(alice->user_id, alice->api_key).status().code(),
            absl::StatusCode::kUnauthenticated);
  // A fresh manager (a restart) verifies from storage.
  ApiKeyManager restarted(&storage);
  EXPECT_TRUE(restarted.Authenticate(alice->user_id, rotated->api_key).ok());
  EXPECT_FALSE(restarted.Authenticate(alice->user_id, alice->api_key).ok());
}

}  // namespace
}  // namespace trellis::gta
