#include "storage/rocksdb/leaf_bundle.h"

#include <string>

#include "gmock/gmock.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "tlog/tiles.h"

namespace trellis::storage::rocksdb {
namespace {

using ::google::protobuf::util::MessageDifferencer;

trillian::LogLeaf MakeLeaf(uint64_t index, std::string value) {
  trillian::LogLeaf leaf;
  leaf.set_leaf_value(std::move(value));
  leaf.set_leaf_index(static_cast<int64_t>(index));
  leaf.set_merkle_leaf_hash(std::string(32, static_cast<char>('a' + index)));
  leaf.set_leaf_identity_hash(leaf.merkle_leaf_hash());
  leaf.mutable_queue_timestamp()->set_seconds(1764590000 + index);
  leaf.mutable_queue_timestamp()->set_nanos(123456789);
  leaf.mutable_integrate_timestamp()->set_seconds(1764590001 + index);
  leaf.mutable_integrate_timestamp()->set_nanos(5);
  return leaf;
}

// Every kind of leaf the sidecar has a flag for.
std::vector<trillian::LogLeaf> Variety() {
  std::vector<trillian::LogLeaf> leaves;
  leaves.push_back(MakeLeaf(0, "plain"));
  leaves.push_back(MakeLeaf(1, ""));
  leaves.back().set_extra_data(std::string(300, 'e'));
  leaves.push_back(MakeLeaf(2, "custom identity"));
  leaves.back().set_leaf_identity_hash(std::string(32, 'Z'));
  leaves.push_back(MakeLeaf(3, "no times"));
  leaves.back().clear_queue_timestamp();
  leaves.back().clear_integrate_timestamp();
  leaves.push_back(MakeLeaf(4, "only queued"));
  leaves.back().clear_integrate_timestamp();
  leaves.push_back(MakeLeaf(5, "year 9999 and before 1970"));
  leaves.back().mutable_integrate_timestamp()->set_seconds(253402300799);
  leaves.back().mutable_queue_timestamp()->set_seconds(-5);
  leaves.push_back(MakeLeaf(6, "not normalised"));
  leaves.back().mutable_queue_timestamp()->set_nanos(-7);
  leaves.push_back(MakeLeaf(7, std::string(70000, 'L')));
  leaves.push_back(MakeLeaf(8, "before 1970, narrow"));
  leaves.back().mutable_queue_timestamp()->set_seconds(-100);
  leaves.back().mutable_integrate_timestamp()->set_seconds(-99);
  return leaves;
}

void ExpectSameLeaves(const LeafBundle& bundle,
                      const std::vector<trillian::LogLeaf>& leaves) {
  ASSERT_EQ(bundle.size(), leaves.size());
  for (size_t i = 0; i < leaves.size(); ++i) {
    trillian::LogLeaf got =
        bundle.Leaf(i, leaves[i].leaf_index(), leaves[i].merkle_leaf_hash());
    trillian::LogLeaf want = leaves[i];
    // Values too long for a bundle entry are the caller's to store.
    EXPECT_EQ(bundle.ValueApart(i), want.leaf_value().size() > 65535) << i;
    if (bundle.ValueApart(i)) want.clear_leaf_value();
    EXPECT_TRUE(MessageDifferencer::Equals(got, want))
        << i << ": " << got.ShortDebugString() << "\nwant "
        << want.ShortDebugString();
  }
}

TEST(LeafBundleTest, EveryLeafComesBackAsItWentIn) {
  const std::vector<trillian::LogLeaf> leaves = Variety();
  LeafBundle bundle;
  for (const trillian::LogLeaf& leaf : leaves) {
    ASSERT_TRUE(bundle.Append(leaf).ok());
  }
  ExpectSameLeaves(bundle, leaves);
  absl::StatusOr<LeafBundle> decoded =
      LeafBundle::Decode(bundle.entries(), bundle.sidecar());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ExpectSameLeaves(*decoded, leaves);
}

TEST(LeafBundleTest, EntriesAreTheC2spBundle) {
  LeafBundle bundle;
  std::string expected;
  for (uint64_t i = 0; i < kLeavesPerBundle; ++i) {
    trillian::LogLeaf leaf = MakeLeaf(i, std::string(i % 7, 'v'));
    leaf.mutable_integrate_timestamp()->set_seconds(1764590001);
    leaf.mutable_queue_timestamp()->set_seconds(1764590000);
    leaf.mutable_queue_timestamp()->set_nanos(950000000);
    ASSERT_TRUE(bundle.Append(leaf).ok());
    ASSERT_TRUE(tlog::AppendBundleEntry(leaf.leaf_value(), &expected).ok());
  }
  EXPECT_TRUE(bundle.full());
  EXPECT_EQ(bundle.entries(), expected);
  absl::StatusOr<absl::string_view> prefix = bundle.EntriesPrefix(3);
  ASSERT_TRUE(prefix.ok());
  EXPECT_EQ(*prefix, std::string("\0\0\0\1v\0\2vv", 9));
  EXPECT_EQ(bundle.EntriesPrefix(257).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(bundle.Append(MakeLeaf(256, "x")).code(),
            absl::StatusCode::kFailedPrecondition);
  // Leaves of one pass share an integrate time; queued 50 ms before it,
  // a leaf takes 5 bytes: flags and extra length, the queue time's delta,
  // and the first leaf's integrate time up to 9 more.
  EXPECT_LE(bundle.sidecar().size(), 5 * kLeavesPerBundle + 9);
}

TEST(LeafBundleTest, LongValuesAreNotServedAsBundleEntries) {
  LeafBundle bundle;
  ASSERT_TRUE(bundle.Append(MakeLeaf(0, "short")).ok());
  ASSERT_TRUE(bundle.Append(MakeLeaf(1, std::string(65536, 'x'))).ok());
  EXPECT_TRUE(bundle.EntriesPrefix(1).ok());
  EXPECT_EQ(bundle.EntriesPrefix(2).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(LeafBundleTest, CorruptRecordsAreDataLoss) {
  LeafBundle bundle;
  for (const trillian::LogLeaf& leaf : Variety()) {
    ASSERT_TRUE(bundle.Append(leaf).ok());
  }
  const std::string& entries = bundle.entries();
  const std::string& sidecar = bundle.sidecar();
  for (size_t cut : {size_t{1}, size_t{3}, sidecar.size() / 2}) {
    EXPECT_EQ(
        LeafBundle::Decode(entries, sidecar.substr(0, cut)).status().code(),
        absl::StatusCode::kDataLoss)
        << cut;
  }
  EXPECT_EQ(LeafBundle::Decode(entries.substr(0, entries.size() - 1), sidecar)
                .status()
                .code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(LeafBundle::Decode(entries, sidecar + "\x01").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      LeafBundle::Decode(entries, "\x7f" + sidecar.substr(1)).status().code(),
      absl::StatusCode::kDataLoss);
  // A time no Append stores (it would overflow as the next leaf's base),
  // and a varint beyond 64 bits.
  const std::string one_entry("\x00\x00", 2);
  EXPECT_EQ(
      LeafBundle::Decode(one_entry, "\x04" + std::string(9, '\xfe') + "\x01")
          .status()
          .code(),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      LeafBundle::Decode(one_entry, "\x04" + std::string(9, '\xff') + "\x7f")
          .status()
          .code(),
      absl::StatusCode::kDataLoss);
  EXPECT_TRUE(LeafBundle::Decode(one_entry, "\x04\x02").ok());
  // Fuzz-style: no prefix of either record crashes.
  for (size_t cut = 0; cut < sidecar.size(); cut += 3) {
    (void)LeafBundle::Decode(entries, sidecar.substr(0, cut));
  }
}

}  // namespace
}  // namespace trellis::storage::rocksdb
