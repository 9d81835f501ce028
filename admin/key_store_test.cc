#include "admin/key_store.h"

#include <fstream>

#include "gtest/gtest.h"
#include "storage/rocksdb/tree_storage.h"
#include "util/test_util.h"

namespace trellis::admin {
namespace {

TEST(KeyStoreTest, PlainWrapRoundTrips) {
  KeyStore keys(nullptr, "");
  auto wrapped = keys.Wrap("tree/1", "secret der");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(*keys.Unwrap("tree/1", *wrapped), "secret der");
}

TEST(KeyStoreTest, EncryptedWrapHidesKeyAndNeedsTheKek) {
  const std::string kek(32, 'k');
  KeyStore keys(nullptr, kek);
  auto wrapped = keys.Wrap("tree/1", "secret der");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->find("secret"), std::string::npos);
  EXPECT_EQ(*keys.Unwrap("tree/1", *wrapped), "secret der");
  // Fresh nonce per wrap.
  EXPECT_NE(*keys.Wrap("tree/1", "secret der"), *wrapped);

  EXPECT_EQ(KeyStore(nullptr, "").Unwrap("tree/1", *wrapped).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(KeyStore(nullptr, std::string(32, 'x'))
                .Unwrap("tree/1", *wrapped)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  std::string tampered = *wrapped;
  tampered[20] ^= 1;
  EXPECT_FALSE(keys.Unwrap("tree/1", tampered).ok());
  EXPECT_FALSE(keys.Unwrap("tree/1", "").ok());
  EXPECT_FALSE(keys.Unwrap("tree/1", "\x07junk").ok());
}

TEST(KeyStoreTest, WrappedKeysAreBoundToTheirId) {
  KeyStore keys(nullptr, std::string(32, 'k'));
  absl::StatusOr<std::string> wrapped = keys.Wrap("tree/1", "secret der");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(keys.Unwrap("tree/2", *wrapped).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(*keys.Unwrap("tree/1", *wrapped), "secret der");
}

TEST(KeyStoreTest, WrapNeedsA32ByteKek) {
  for (size_t size : {1, 16, 31, 33}) {
    EXPECT_EQ(KeyStore(nullptr, std::string(size, 'k'))
                  .Wrap("tree/1", "secret der")
                  .status()
                  .code(),
              absl::StatusCode::kFailedPrecondition)
        << size;
  }
}

TEST(KeyStoreTest, ReadsKekFiles) {
  testing::TempDir dir;
  const std::string hex_path = dir.path() + "/hex";
  std::ofstream(hex_path) << std::string(64, 'a') << "\n";
  auto kek = KeyStore::ReadKekFile(hex_path);
  ASSERT_TRUE(kek.ok());
  EXPECT_EQ(*kek, std::string(32, '\xaa'));
  const std::string bad_path = dir.path() + "/bad";
  std::ofstream(bad_path) << "short";
  EXPECT_FALSE(KeyStore::ReadKekFile(bad_path).ok());
  EXPECT_FALSE(KeyStore::ReadKekFile(dir.path() + "/missing").ok());
}

}  // namespace
}  // namespace trellis::admin
