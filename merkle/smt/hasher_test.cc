// Hasher outputs against vectors derived independently (Python hashlib over
// the byte layouts Trillian v1.3.11 defines).
#include "merkle/smt/hasher.h"

#include <string>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace trellis::merkle::smt {
namespace {

std::string Hex(const std::string& s) { return absl::BytesToHexString(s); }

std::string Index() {
  std::string index(32, '\0');
  for (int i = 0; i < 32; ++i) index[i] = static_cast<char>(i);
  return index;
}

TEST(ConiksHasherTest, MatchesHandDerivedVectors) {
  auto sha512_256 = NewConiksSha512_256Hasher();
  auto sha256 = NewConiksSha256Hasher();
  const std::string index = Index();
  EXPECT_EQ(Hex(sha512_256->HashEmpty(42, index, 0)),
            "19e7487c8c65a6d1151591a9067f80557253f4fc001c3b37c8323171f8ea36a1");
  EXPECT_EQ(Hex(sha512_256->HashEmpty(42, index, 256)),
            "464b346c578fb851d1c442542eb5def05027b5871f7ac2815263bcd141161086");
  // Height 3: the index is masked to 253 bits.
  EXPECT_EQ(Hex(sha512_256->HashEmpty(42, index, 3)),
            "ec9b7177b8050558b320b3f6bfe0f70d0935d6ce26f1c71913c25bf0c8975168");
  EXPECT_EQ(Hex(sha256->HashEmpty(42, index, 13)),
            "2a94697b0cfa37bfab691516a81b5d3ac29bc72df4a593ecc5cd4b879903e1af");
  EXPECT_EQ(Hex(sha512_256->HashLeaf(42, index, "value")),
            "c2f13f09c2576286455bb2512494bd21795fb97d5c241789d04cf82ea7eb48b6");
  EXPECT_EQ(Hex(sha256->HashLeaf(7, index, "")),
            "7e2cb95675a907de3bf3e8f483eb3c3c856b41ee4958beb7518f0026858d82c9");
  EXPECT_EQ(
      Hex(sha512_256->HashChildren(std::string(32, 'a'), std::string(32, 'b'))),
      "d2c70059485df82f0fd31618ed51e2d65ca28e41c757f711d86abf40829da955");
  // The empty root does not depend on the index; other heights do, and so
  // does the tree id.
  EXPECT_EQ(sha512_256->HashEmpty(42, "", 256),
            sha512_256->HashEmpty(42, index, 256));
  EXPECT_NE(sha512_256->HashEmpty(42, index, 3),
            sha512_256->HashEmpty(43, index, 3));
}

TEST(TestMapHasherTest, MatchesHandDerivedVectors) {
  auto hasher = NewTestMapHasher();
  EXPECT_EQ(Hex(hasher->HashEmpty(1, "", 256)),
            "c6689f10812a0980976d9533d83875282166159567ec35155716c1413af53d6a");
  EXPECT_EQ(Hex(hasher->HashLeaf(1, Index(), "value")),
            "7377811838091e7b3c61c2fc4a67260c46c22d417c3a574303f8e5661cb1ee94");
  EXPECT_EQ(hasher->HashEmpty(1, "", 0), hasher->HashLeaf(9, "", ""));
}

TEST(MaskIndexTest, KeepsLeadingBits) {
  const std::string index(32, '\xff');
  EXPECT_EQ(MaskIndex(index, 0), std::string(32, '\0'));
  EXPECT_EQ(MaskIndex(index, 12),
            std::string("\xff\xf0", 2) + std::string(30, '\0'));
  EXPECT_EQ(MaskIndex(index, 256), index);
  EXPECT_EQ(IndexBit(std::string("\x40", 1) + std::string(31, '\0'), 1), 1);
}

}  // namespace
}  // namespace trellis::merkle::smt
