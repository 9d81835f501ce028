#include "log/tile_reader.h"

#include "gtest/gtest.h"

namespace trellis::log {
namespace {

TEST(TileEntriesAtTest, CountsTheEntriesATreeHasOfATile) {
  EXPECT_EQ(TileEntriesAt(0, 0, 0), 0u);
  EXPECT_EQ(TileEntriesAt(0, 0, 1), 1u);
  EXPECT_EQ(TileEntriesAt(0, 0, 256), 256u);
  EXPECT_EQ(TileEntriesAt(0, 1, 256), 0u);
  EXPECT_EQ(TileEntriesAt(0, 1, 300), 44u);
  EXPECT_EQ(TileEntriesAt(0, 0, 1000000), 256u);
  // Level 1: one node per 256 leaves.
  EXPECT_EQ(TileEntriesAt(1, 0, 255), 0u);
  EXPECT_EQ(TileEntriesAt(1, 0, 300), 1u);
  EXPECT_EQ(TileEntriesAt(1, 0, 65536), 256u);
  EXPECT_EQ(TileEntriesAt(1, 1, 65536 + 512), 2u);
  // Beyond what 64 bits address, and negative levels.
  EXPECT_EQ(TileEntriesAt(8, 0, ~uint64_t{0}), 0u);
  EXPECT_EQ(TileEntriesAt(7, 0, ~uint64_t{0}), 255u);
  EXPECT_EQ(TileEntriesAt(-1, 0, 1000), 0u);
  EXPECT_EQ(TileEntriesAt(0, ~uint64_t{0}, ~uint64_t{0}), 0u);
  EXPECT_EQ(TileEntriesAt(0, (~uint64_t{0}) >> 8, ~uint64_t{0}), 255u);
}

}  // namespace
}  // namespace trellis::log
