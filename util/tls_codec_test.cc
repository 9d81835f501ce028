#include "util/tls_codec.h"

#include <string>

#include "gtest/gtest.h"

namespace trellis {
namespace {

TEST(TlsCodecTest, RoundTripsIntegersAndOpaques) {
  std::string buf;
  PutUint(buf, 0x0102, 2);
  PutUint(buf, 3, 1);
  buf += "abc";
  PutUint(buf, 0x0102030405060708ull, 8);
  EXPECT_EQ(buf.size(), 2u + 1 + 3 + 8);
  TlsReader r(buf);
  EXPECT_EQ(r.ReadUint(2), 0x0102u);
  EXPECT_EQ(r.ReadOpaque(1), "abc");
  EXPECT_EQ(r.ReadUint(8), 0x0102030405060708ull);
  EXPECT_TRUE(r.done());
}

TEST(TlsCodecTest, ReadsPastTheEndFailStickily) {
  std::string buf =
      "\x05"
      "ab";  // Claims 5 bytes, has 2.
  TlsReader r(buf);
  EXPECT_EQ(r.ReadOpaque(1), "");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.ReadUint(1), 0u);
  EXPECT_FALSE(r.done());
}

}  // namespace
}  // namespace trellis
