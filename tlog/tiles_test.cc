#include "tlog/tiles.h"

#include "gtest/gtest.h"

namespace trellis::tlog {
namespace {

TEST(TilesTest, PathsEncodeIndexesInGroupsOfThree) {
  EXPECT_EQ(*TilePath({false, 0, 0, 256}), "tile/0/000");
  EXPECT_EQ(*TilePath({false, 0, 999, 256}), "tile/0/999");
  EXPECT_EQ(*TilePath({false, 0, 1000, 256}), "tile/0/x001/000");
  EXPECT_EQ(*TilePath({false, 2, 1234067, 256}), "tile/2/x001/x234/067");
  EXPECT_EQ(*TilePath({false, 1, 0, 17}), "tile/1/000.p/17");
  EXPECT_EQ(*TilePath({true, 0, 273, 112}), "tile/entries/273.p/112");
  for (const TileId& tile :
       {TileId{false, 0, 0, 256}, TileId{false, 63, UINT64_MAX, 255},
        TileId{true, 0, 1000000, 1}, TileId{false, 5, 1234067, 256}}) {
    const std::string path = TilePath(tile).value();
    auto parsed = ParseTilePath(path);
    ASSERT_TRUE(parsed.ok()) << path;
    EXPECT_TRUE(*parsed == tile) << path;
  }
}

TEST(TilesTest, TilesThatCannotExistHaveNoPath) {
  // PartialWidth's 0 means "no partial tile": there is no empty tile.
  EXPECT_FALSE(TilePath({false, 0, 5, 0}).ok());
  EXPECT_FALSE(TilePath({false, 0, 5, 257}).ok());
  EXPECT_FALSE(TilePath({false, 64, 5, 256}).ok());
  EXPECT_FALSE(TilePath({false, -1, 5, 256}).ok());
  EXPECT_FALSE(TilePath({true, 1, 5, 256}).ok());
}

TEST(TilesTest, NonCanonicalPathsAreRefused) {
  for (const char* bad :
       {"tile/00/000", "tile/64/000", "tile/0/x000/001", "tile/0/1234",
        "tile/0/01", "tile/0/000.p/256", "tile/0/000.p/0", "tile/0/000.p/07",
        "tile/0/001/000", "tile/0/x001", "tile/entries/", "tile/0/",
        "tiles/0/000", "tile/-1/000", "tile/0/x1000/000",
        "tile/0/x018/x446/x744/x073/x709/x551/616"}) {
    EXPECT_FALSE(ParseTilePath(bad).ok()) << bad;
  }
}

TEST(TilesTest, PartialWidthsFollowTheSpecificationsExample) {
  // 70,000 entries: L0 partial of 112, L1 of 17, L2 of 1, nothing above.
  EXPECT_EQ(PartialWidth(0, 70000), 112);
  EXPECT_EQ(PartialWidth(1, 70000), 17);
  EXPECT_EQ(PartialWidth(2, 70000), 1);
  EXPECT_EQ(PartialWidth(3, 70000), 0);
  EXPECT_EQ(PartialWidth(0, 256), 0);
  EXPECT_EQ(PartialWidth(1, 256), 1);
  EXPECT_EQ(PartialWidth(0, 0), 0);
}

TEST(TilesTest, EntryBundlesRoundTrip) {
  std::string bundle;
  ASSERT_TRUE(AppendBundleEntry("", &bundle).ok());
  ASSERT_TRUE(AppendBundleEntry("abc", &bundle).ok());
  ASSERT_TRUE(AppendBundleEntry(std::string(65535, 'x'), &bundle).ok());
  EXPECT_EQ(bundle.substr(0, 7), std::string("\0\0\0\x03"
                                             "abc",
                                             7));
  auto entries = ParseBundle(bundle);
  ASSERT_TRUE(entries.ok());
  EXPECT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[2].size(), 65535u);
  EXPECT_FALSE(AppendBundleEntry(std::string(65536, 'x'), &bundle).ok());
  EXPECT_FALSE(ParseBundle(bundle.substr(0, bundle.size() - 1)).ok());
  EXPECT_FALSE(ParseBundle(std::string(1, '\0')).ok());
  std::string full;
  for (int i = 0; i < 257; ++i) ASSERT_TRUE(AppendBundleEntry("e", &full).ok());
  EXPECT_FALSE(ParseBundle(full).ok());
}

}  // namespace
}  // namespace trellis::tlog
