#include "storage/rocksdb/tile.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "merkle/compact_range.h"
#include "merkle/hasher.h"
#include "util/tls_codec.h"

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

// Every node of level-0 tiles of `width` leaves, as the sequencer's
// compact range emits them: nodes[row][pos].
std::vector<std::vector<std::string>> TreeNodes(uint32_t width) {
  std::vector<std::vector<std::string>> nodes(kTileHeight + 1);
  merkle::CompactRange range;
  for (uint32_t i = 0; i < width; ++i) {
    range.Append(merkle::HashLeaf("leaf " + std::to_string(i)),
                 [&](const merkle::NodeID& id, const std::string& hash) {
                   nodes[id.level].push_back(hash);
                 });
  }
  nodes.resize(kTileHeight);
  return nodes;
}

Tile Build(const std::vector<std::vector<std::string>>& nodes, uint32_t from,
           uint32_t to, Tile tile = Tile()) {
  for (uint32_t row = 0; row < kTileHeight; ++row) {
    for (uint32_t pos = from >> row; pos < (to >> row); ++pos) {
      EXPECT_TRUE(tile.Append(row, pos, nodes[row][pos]).ok());
    }
  }
  return tile;
}

void ExpectEveryNode(const std::string& encoded,
                     const std::vector<std::vector<std::string>>& nodes,
                     uint32_t width) {
  for (uint32_t row = 0; row < kTileHeight; ++row) {
    for (uint32_t pos = 0; pos < (width >> row); ++pos) {
      auto node = ReadTileNode(encoded, row, pos);
      ASSERT_TRUE(node.ok()) << row << "/" << pos << ": " << node.status();
      EXPECT_EQ(*node, nodes[row][pos]) << row << "/" << pos;
    }
    EXPECT_EQ(ReadTileNode(encoded, row, width >> row).status().code(),
              absl::StatusCode::kNotFound);
  }
}

TEST(TileTest, StoresRowZeroAndComputesTheRest) {
  const auto nodes = TreeNodes(kTileWidth);
  for (uint32_t width : {1u, 4u, 37u, 255u}) {
    auto encoded = Build(nodes, 0, width).Encode();
    ASSERT_TRUE(encoded.ok());
    // A partial tile is exactly the C2SP tile: row 0.
    EXPECT_EQ(encoded->size(), width * 32u);
    EXPECT_EQ(*TileRowPrefix(*encoded, width), encoded->substr(0));
    EXPECT_FALSE(IsCompleteTile(*encoded));
    ExpectEveryNode(*encoded, nodes, width);
    // Caches hold the expanded form: every row, the same nodes.
    auto expanded = ExpandTile(*encoded);
    ASSERT_TRUE(expanded.ok());
    EXPECT_EQ(expanded->size() % 32, 2u);
    ExpectEveryNode(*expanded, nodes, width);
    EXPECT_EQ(*Tile::Decode(*expanded)->Encode(), *encoded);
  }
  // A complete tile adds row 4: 16 hashes.
  auto full = Build(nodes, 0, kTileWidth).Encode();
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(full->size(), (256u + 16u) * 32u);
  EXPECT_TRUE(IsCompleteTile(*full));
  EXPECT_EQ(TileRowPrefix(*full, 256)->size(), 256u * 32u);
  ExpectEveryNode(*full, nodes, kTileWidth);
  ExpectEveryNode(*ExpandTile(*full), nodes, kTileWidth);
  EXPECT_TRUE(IsCompleteTile(*ExpandTile(*full)));
  // The sequencer extends an edge tile it read back.
  auto partial = Build(nodes, 0, 100).Encode();
  auto decoded = Tile::Decode(*partial);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*Build(nodes, 100, kTileWidth, *decoded).Encode(), *full);
}

// Versions before stored the expanded form.
TEST(TileTest, ReadsTilesOfOlderVersions) {
  const auto nodes = TreeNodes(kTileWidth);
  for (uint32_t width : {6u, 256u}) {
    std::string older;
    PutUint(older, width, 2);
    for (uint32_t row = 0; row < kTileHeight; ++row) {
      for (uint32_t pos = 0; pos < (width >> row); ++pos) {
        older += nodes[row][pos];
      }
    }
    ExpectEveryNode(older, nodes, width);
    EXPECT_EQ(IsCompleteTile(older), width == kTileWidth);
    auto decoded = Tile::Decode(older);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*Build(nodes, width, kTileWidth, *decoded).Encode(),
              *Build(nodes, 0, kTileWidth).Encode());
  }
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
  EXPECT_EQ(ReadTileNode(H(1) + "x", 0, 0).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(ReadTileNode(std::string(257 * 32, 'h'), 0, 0).status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_FALSE(Tile::Decode(std::string("\x01\x01", 2)).ok());
}

}  // namespace
}  // namespace trellis::storage::rocksdb
