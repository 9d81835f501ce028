#include "cmd/trellis/trust_store.h"

#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>

#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace trellis::cli {
namespace {

std::string NewKeyDer() {
  auto key = crypto::GenerateKey(keyspb::Specification());
  EXPECT_TRUE(key.ok());
  return *crypto::MarshalPublicKey(**key);
}

TEST(TrustStoreTest, EscapedServerNamesAreDistinctFileNames) {
  const std::set<std::string> names = {"127.0.0.1:8090",
                                       "127.0.0.1%3A8090",
                                       "unix:/tmp/x.sock",
                                       "unix_/tmp/x.sock",
                                       ".",
                                       "..",
                                       "",
                                       "%",
                                       std::string(300, 'a'),
                                       std::string(300, 'a') + "b"};
  std::set<std::string> escaped;
  for (const std::string& name : names) {
    const std::string e = EscapeServerName(name);
    EXPECT_TRUE(escaped.insert(e).second) << name << " -> " << e;
    EXPECT_EQ(e.find('/'), std::string::npos) << e;
    EXPECT_NE(e, ".");
    EXPECT_NE(e, "..");
    EXPECT_FALSE(e.empty());
    EXPECT_LE(e.size(), 128u);
  }
  EXPECT_EQ(EscapeServerName("127.0.0.1:8090"), "127.0.0.1%3A8090");
}

TEST(TrustStoreTest, SavesLoadsAndCreatesPrivateFiles) {
  testing::TempDir dir;
  const std::string state_dir = dir.path() + "/a/b/trellis";
  StateStore store(state_dir, "unix:/run/trellis.sock");
  auto none = store.Load(42);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  TreeState map;
  map.public_key_der = NewKeyDer();
  ASSERT_TRUE(store.Save(7, map).ok());
  auto loaded_map = store.Load(7);
  ASSERT_TRUE(loaded_map.ok() && loaded_map->has_value());
  EXPECT_EQ((*loaded_map)->public_key_der, map.public_key_der);
  EXPECT_FALSE((*loaded_map)->root.has_value());

  TreeState log = map;
  log.root = RememberedRoot{12, std::string(32, 'h'), 1700000000000000000};
  ASSERT_TRUE(store.Save(42, log).ok());
  ASSERT_TRUE(store.Save(42, log).ok());  // Replaces.
  auto loaded = store.Load(42);
  ASSERT_TRUE(loaded.ok() && loaded->has_value());
  ASSERT_TRUE((*loaded)->root.has_value());
  EXPECT_EQ((*loaded)->root->tree_size, 12u);
  EXPECT_EQ((*loaded)->root->root_hash, log.root->root_hash);
  EXPECT_EQ((*loaded)->root->timestamp_nanos, log.root->timestamp_nanos);

  struct stat st;
  ASSERT_EQ(stat(state_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(stat(store.PathFor(42).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(store.PathFor(42),
            state_dir + "/logs/unix%3A%2Frun%2Ftrellis.sock/42.json");
}

TEST(TrustStoreTest, RefusesMalformedState) {
  for (const char* bad : {
           "",
           "[]",
           "{}",
           R"({"publicKey":""})",
           R"({"publicKey":"@@"})",
           R"({"publicKey":"AAAA","treeSize":-1,"rootHash":"AAAA",)"
           R"("timestampNanos":1})",
           R"({"publicKey":"AAAA","treeSize":1})",
           R"({"publicKey":"AAAA","treeSize":1,"rootHash":7,)"
           R"("timestampNanos":1})",
       }) {
    EXPECT_FALSE(ParseTreeState(bad).ok()) << bad;
  }
  testing::TempDir dir;
  StateStore store(dir.path(), "s");
  ASSERT_TRUE(store.Save(1, TreeState{NewKeyDer(), std::nullopt}).ok());
  std::ofstream(store.PathFor(1)) << "{\"publicKey\":";
  EXPECT_FALSE(store.Load(1).ok());
}

TEST(TrustStoreTest, CanonicalKeysCompareEqual) {
  const std::string der = NewKeyDer();
  auto canonical = CanonicalPublicKey(der);
  ASSERT_TRUE(canonical.ok());
  EXPECT_EQ(*canonical, der);
  EXPECT_FALSE(CanonicalPublicKey("not a key").ok());
  EXPECT_EQ(KeyFingerprint(der).size(), 64u);
}

TEST(TrustStoreTest, DefaultStateDirFollowsXdg) {
  setenv("XDG_STATE_HOME", "/xdg/state", 1);
  EXPECT_EQ(*DefaultStateDir(), "/xdg/state/trellis");
  setenv("XDG_STATE_HOME", "relative", 1);  // Invalid: ignored.
  setenv("HOME", "/home/u", 1);
  EXPECT_EQ(*DefaultStateDir(), "/home/u/.local/state/trellis");
  unsetenv("XDG_STATE_HOME");
  unsetenv("HOME");
  EXPECT_FALSE(DefaultStateDir().ok());
}

}  // namespace
}  // namespace trellis::cli
