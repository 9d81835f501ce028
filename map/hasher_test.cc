#include "map/hasher.h"

#include <string>

#include "gtest/gtest.h"

namespace trellis::map {
namespace {

// The strategy's hasher hashes as the smt hasher it names.
void ExpectSameHasher(trillian::HashStrategy strategy,
                      const merkle::smt::MapHasher& expected) {
  const std::string index(32, '\x01');
  auto hasher = NewMapHasher(strategy);
  ASSERT_TRUE(hasher.ok()) << trillian::HashStrategy_Name(strategy);
  EXPECT_EQ((*hasher)->HashLeaf(5, index, "v"),
            expected.HashLeaf(5, index, "v"));
  EXPECT_EQ((*hasher)->HashEmpty(5, index, 7), expected.HashEmpty(5, index, 7));
}

TEST(NewMapHasherTest, MapsStrategiesToHashers) {
  ExpectSameHasher(trillian::CONIKS_SHA512_256,
                   *merkle::smt::NewConiksSha512_256Hasher());
  ExpectSameHasher(trillian::CONIKS_SHA256,
                   *merkle::smt::NewConiksSha256Hasher());
  ExpectSameHasher(trillian::TEST_MAP_HASHER, *merkle::smt::NewTestMapHasher());
}

TEST(NewMapHasherTest, RefusesLogStrategies) {
  EXPECT_FALSE(NewMapHasher(trillian::RFC6962_SHA256).ok());
  EXPECT_FALSE(NewMapHasher(trillian::UNKNOWN_HASH_STRATEGY).ok());
}

}  // namespace
}  // namespace trellis::map
