#include "storage/rocksdb/unindexed_identities.h"

#include "gtest/gtest.h"

namespace trellis::storage::rocksdb {
namespace {

using Kind = LeafPosition::Kind;

TEST(UnindexedIdentitiesTest, LeavesAreHeldUntilTheirRecordsAreWritten) {
  UnindexedIdentities unindexed;
  unindexed.set_indexed_size(10);
  unindexed.AddQueued(1, {Kind::kQueued, 7, 0});
  unindexed.AddQueued(2, {Kind::kQueued, 7, 1});
  unindexed.AddQueued(2, {Kind::kQueued, 8, 0});  // Another identity, same key.
  ASSERT_EQ(unindexed.Find(2).size(), 2u);
  EXPECT_EQ(unindexed.Find(2)[0].offset, 1u);
  EXPECT_TRUE(unindexed.Find(3).empty());
  EXPECT_EQ(unindexed.integrated_count(), 0u);

  // Integrated leaves move to their index, in order.
  unindexed.AddIntegrated(1, LeafPosition{Kind::kQueued, 7, 0}, 10);
  unindexed.AddIntegrated(2, LeafPosition{Kind::kQueued, 7, 1}, 11);
  ASSERT_EQ(unindexed.Find(1).size(), 1u);
  EXPECT_EQ(unindexed.Find(1)[0].kind, Kind::kIndex);
  EXPECT_EQ(unindexed.Find(1)[0].n, 10u);
  ASSERT_EQ(unindexed.Find(2).size(), 2u);
  EXPECT_EQ(unindexed.Find(2)[0].kind, Kind::kIndex);
  EXPECT_EQ(unindexed.Find(2)[1].kind, Kind::kQueued);
  auto first = unindexed.Integrated(1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0], std::make_pair(uint64_t{10}, uint64_t{1}));
  EXPECT_EQ(unindexed.Integrated(5).size(), 2u);

  // Written: forgotten, and the indexed size follows; queued ones stay.
  unindexed.DropIntegrated(1);
  EXPECT_TRUE(unindexed.Find(1).empty());
  EXPECT_EQ(unindexed.Find(2).size(), 2u);
  EXPECT_EQ(unindexed.indexed_size(), 11u);
  unindexed.DropIntegrated(5);
  ASSERT_EQ(unindexed.Find(2).size(), 1u);
  EXPECT_EQ(unindexed.Find(2)[0].kind, Kind::kQueued);
  EXPECT_EQ(unindexed.indexed_size(), 12u);
  EXPECT_EQ(unindexed.integrated_count(), 0u);

  // Leaves found at start have no queue position.
  unindexed.AddIntegrated(4, std::nullopt, 12);
  ASSERT_EQ(unindexed.Find(4).size(), 1u);
  EXPECT_EQ(unindexed.Find(4)[0].n, 12u);
}

}  // namespace
}  // namespace trellis::storage::rocksdb
