#include "crypto/random.h"

#include "gtest/gtest.h"
#include "re2/re2.h"

namespace trellis::crypto {
namespace {

TEST(RandomTest, BytesDifferAndHaveTheAskedLength) {
  EXPECT_EQ(RandomBytes(0), "");
  const std::string a = RandomBytes(32);
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, RandomBytes(32));
}

TEST(RandomTest, UuidIsVersion4) {
  const std::string uuid = RandomUuid();
  EXPECT_TRUE(RE2::FullMatch(
      uuid,
      "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"))
      << uuid;
  EXPECT_NE(uuid, RandomUuid());
}

}  // namespace
}  // namespace trellis::crypto
