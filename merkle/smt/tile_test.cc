#include "merkle/smt/tile.h"

#include <string>

#include "gtest/gtest.h"

namespace trellis::merkle::smt {
namespace {

NodeEntry Plain(char c) { return NodeEntry{std::string(32, c), "", ""}; }

Tile Sample() {
  TileWriter writer;
  writer.Add(1, 1, Plain('a'));
  writer.Add(3, 5, Plain('b'));
  writer.Add(8, 3,
             NodeEntry{std::string(32, 'c'), std::string(32, 'i'),
                       std::string(32, 'l')});
  writer.Add(8, 200, Plain('d'));
  return writer.Finish();
}

TEST(TileTest, RoundTripsAndFindsNodes) {
  const Tile tile = Sample();
  auto parsed = Tile::Parse(tile.bytes());
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->size(), 4u);
  EXPECT_EQ(parsed->Find(1, 1)->hash, std::string(32, 'a'));
  EXPECT_FALSE(parsed->Find(1, 0));
  std::optional<NodeRef> single = parsed->Find(8, 3);
  ASSERT_TRUE(single);
  EXPECT_TRUE(single->single());
  EXPECT_EQ(single->single_index, std::string(32, 'i'));
  EXPECT_EQ(single->ToEntry().single_leaf_hash, std::string(32, 'l'));
  EXPECT_FALSE(parsed->Find(8, 4));

  // The highest stored node under a node, or none.
  std::optional<PlacedNode> below = parsed->FindBelow(1, 1);
  ASSERT_TRUE(below);  // (3, 5) is the highest stored node under (1, 1).
  EXPECT_EQ(below->level, 3);
  EXPECT_EQ(below->offset, 5);
  below = parsed->FindBelow(0, 0);
  EXPECT_EQ(below->level, 1);
}

TEST(TileTest, FindBelowLooksOnlyUnderTheNode) {
  const Tile tile = Sample();
  // (3, 5) is under (2, 2); (8, 3) is under (2, 0); (8, 200) under (2, 3).
  EXPECT_EQ(tile.FindBelow(2, 2)->level, 3);
  EXPECT_EQ(tile.FindBelow(2, 0)->offset, 3);
  EXPECT_EQ(tile.FindBelow(2, 3)->offset, 200);
  EXPECT_FALSE(tile.FindBelow(2, 1));
  EXPECT_FALSE(tile.FindBelow(8, 3));  // Nothing lies below the bottom row.
  EXPECT_EQ(tile.Nodes().size(), 4u);
  EXPECT_EQ(tile.Nodes()[1].level, 3);
  EXPECT_EQ(tile.Nodes()[1].offset, 5);
}

TEST(TileTest, RejectsMalformedBytes) {
  const std::string good = Sample().bytes();
  // Every truncation fails cleanly.
  for (size_t n = 0; n < good.size(); ++n) {
    EXPECT_EQ(Tile::Parse(good.substr(0, n)).status().code(),
              absl::StatusCode::kDataLoss)
        << n;
  }
  EXPECT_FALSE(Tile::Parse(good + "x").ok());  // Trailing bytes.
  std::string bad = good;
  bad[1] = 5;  // Count larger than the entries present.
  EXPECT_FALSE(Tile::Parse(bad).ok());
  bad = good;
  bad[2] = 0x7f;  // Slot out of range.
  EXPECT_FALSE(Tile::Parse(bad).ok());
  bad = good;
  bad[4] = 9;  // Unknown node kind.
  EXPECT_FALSE(Tile::Parse(bad).ok());
  // Slots out of order: (1, 1) after (3, 5).
  const std::string hash(32, 'h');
  std::string unsorted("\x00\x02", 2);
  unsorted += std::string("\x00\x0b\x01\x20", 4) + hash;
  unsorted += std::string("\x00\x01\x01\x20", 4) + hash;
  EXPECT_FALSE(Tile::Parse(unsorted).ok());
  std::string sorted("\x00\x02", 2);
  sorted += std::string("\x00\x01\x01\x20", 4) + hash;
  sorted += std::string("\x00\x0b\x01\x20", 4) + hash;
  EXPECT_TRUE(Tile::Parse(sorted).ok());
}

TEST(NodeEntryTest, EncodesEveryKind) {
  for (const NodeEntry& e :
       {NodeEntry{}, Plain('p'),
        NodeEntry{std::string(32, 'h'), std::string(32, 'i'), "leafhash"}}) {
    auto decoded = DecodeNodeEntry(EncodeNodeEntry(e));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->hash, e.hash);
    EXPECT_EQ(decoded->single_index, e.single_index);
    EXPECT_EQ(decoded->single_leaf_hash, e.single_leaf_hash);
  }
  EXPECT_FALSE(DecodeNodeEntry("\x02").ok());
}

}  // namespace
}  // namespace trellis::merkle::smt
