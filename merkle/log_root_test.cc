#include "merkle/log_root.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace trellis::merkle {
namespace {

TEST(LogRootTest, EncodesTrillianLayout) {
  LogRootV1 root;
  root.tree_size = 0x0102;
  root.root_hash = std::string(32, '\xaa');
  root.timestamp_nanos = 7;
  root.revision = 3;
  root.metadata = "md";
  auto bytes = SerializeLogRoot(root);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(absl::BytesToHexString(*bytes),
            "0001"              // version
            "0000000000000102"  // tree_size
            "20" +
                std::string(64, 'a') +  // root_hash
                "0000000000000007"      // timestamp
                "0000000000000003"      // revision
                "0002"
                "6d64");  // metadata
  auto parsed = ParseLogRoot(*bytes);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, root);
}

TEST(LogRootTest, RejectsMalformed) {
  LogRootV1 root;
  root.root_hash = std::string(32, 'x');
  std::string bytes = *SerializeLogRoot(root);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_FALSE(ParseLogRoot(bytes.substr(0, n)).ok()) << n;
  }
  EXPECT_FALSE(ParseLogRoot(bytes + "x").ok());
  std::string v2 = bytes;
  v2[1] = 2;
  EXPECT_FALSE(ParseLogRoot(v2).ok());
  root.root_hash = std::string(129, 'x');
  EXPECT_FALSE(SerializeLogRoot(root).ok());
}

}  // namespace
}  // namespace trellis::merkle
