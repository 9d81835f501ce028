#include "storage/rocksdb/tile.h"

#include <string>

#include "gtest/gtest.h"

namespace trellis::storage::rocksdb {
namespace {

std::string H(int n) { return std::string(32, static_cast<char>(n)); }

TEST(TileTest, LocatesNodes) {
  TileAddress a = Locate({0, 300});
  EXPECT_EQ(a.tile_level, 0u);
  EXPECT_EQ(a.tile_index, 1u);
  EXPECT_EQ(a.row, 0u);
  EXPECT_EQ(a.pos, 44u);
  a = Locate({3, 70});  // Level 3 nodes: 32 per tile.
  EXPECT_EQ(a.tile_index, 2u);
  EXPECT_EQ(a.row, 3u);
  EXPECT_EQ(a.pos, 6u);
  a = Locate({9, 5});
  EXPECT_EQ(a.tile_level, 1u);
  EXPECT_EQ(a.tile_index, 0u);
  EXPECT_EQ(a.row, 1u);
  EXPECT_EQ(a.pos, 5u);
}

TEST(TileTest, EncodesRowsAndReadsSingleNodes) {
  Tile tile;
  // Four leaves, two level-1 nodes, one level-2 node.
  for (uint32_t i = 0; i < 4; ++i) ASSERT_TRUE(tile.Append(0, i, H(i)).ok());
  ASSERT_TRUE(tile.Append(1, 0, H(10)).ok());
  ASSERT_TRUE(tile.Append(1, 1, H(11)).ok());
  ASSERT_TRUE(tile.Append(2, 0, H(20)).ok());
  auto encoded = tile.Encode();
  ASSERT_TRUE(encoded.ok());
  EXPECT_EQ(encoded->size(), 2 + 7 * 32u);
  EXPECT_EQ(*ReadTileNode(*encoded, 0, 3), H(3));
  EXPECT_EQ(*ReadTileNode(*encoded, 1, 1), H(11));
  EXPECT_EQ(*ReadTileNode(*encoded, 2, 0), H(20));
  EXPECT_EQ(ReadTileNode(*encoded, 0, 4).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadTileNode(*encoded, 3, 0).status().code(),
            absl::StatusCode::kNotFound);

  auto decoded = Tile::Decode(*encoded);
  ASSERT_TRUE(decoded.ok());
  ASSERT_TRUE(decoded->Append(0, 4, H(4)).ok());
  EXPECT_EQ(*ReadTileNode(*decoded->Encode(), 0, 4), H(4));
}

TEST(TileTest, RefusesOutOfOrderAndIncompleteAndCorrupt) {
  Tile tile;
  EXPECT_FALSE(tile.Append(0, 1, H(1)).ok());
  ASSERT_TRUE(tile.Append(0, 0, H(0)).ok());
  ASSERT_TRUE(tile.Append(0, 1, H(1)).ok());
  EXPECT_FALSE(tile.Append(0, 1, H(1)).ok());
  EXPECT_FALSE(tile.Append(0, 2, "short").ok());
  EXPECT_EQ(tile.Encode().status().code(), absl::StatusCode::kInternal);
  EXPECT_EQ(ReadTileNode("", 0, 0).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadTileNode(std::string("\x00\x01", 2) + H(1) + "x", 0, 0)
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
  EXPECT_FALSE(Tile::Decode(std::string("\x01\x01", 2)).ok());
}

}  // namespace
}  // namespace trellis::storage::rocksdb
