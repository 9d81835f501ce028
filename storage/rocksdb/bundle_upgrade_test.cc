// Data directories from before entry bundles keep each integrated leaf as
// a LogLeaf record at its index: after the move the same leaves come back,
// their records are gone, an interrupted move resumes, and records of
// PREORDERED_LOG leaves ahead of the tree stay.
#include "storage/rocksdb/bundle_upgrade.h"

#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "merkle/compact_range.h"
#include "merkle/hasher.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/keys.h"
#include "storage/rocksdb/leaf_bundle.h"
#include "storage/rocksdb/log_storage.h"
#include "util/test_util.h"

namespace trellis::storage::rocksdb {
namespace {

using ::google::protobuf::util::MessageDifferencer;

constexpr int64_t kTree = 9;
constexpr int kLeaves = 600;

class BundleUpgradeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open({dir_.path()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    ASSERT_TRUE(db_->db()
                    ->Put(db_->durable_write(), db_->trees(), keys::Tree(kTree),
                          trillian::Tree().SerializeAsString())
                    .ok());
    // A log of 600 integrated leaves as this version stores them.
    RocksLogStorage logs(db_.get());
    ASSERT_TRUE(logs.InitRoot(kTree, trillian::SignedLogRoot()).ok());
    std::vector<trillian::LogLeaf> leaves(kLeaves);
    for (int i = 0; i < kLeaves; ++i) {
      leaves[i].set_leaf_value("v" + std::to_string(i));
      leaves[i].set_extra_data("x" + std::to_string(i));
      leaves[i].set_merkle_leaf_hash(merkle::HashLeaf(leaves[i].leaf_value()));
      leaves[i].set_leaf_identity_hash(leaves[i].merkle_leaf_hash());
      leaves[i].mutable_queue_timestamp()->set_seconds(1764590000 + i);
    }
    leaves[300].set_leaf_identity_hash(merkle::Sha256("custom"));
    // Logs without entry bundles take values too long for a bundle entry.
    leaves[301].set_leaf_value(std::string(70000, 'L'));
    leaves[301].set_merkle_leaf_hash(
        merkle::HashLeaf(leaves[301].leaf_value()));
    leaves[301].set_leaf_identity_hash(leaves[301].merkle_leaf_hash());
    ASSERT_TRUE(logs.QueueLeaves(kTree, leaves).ok());
    auto queued = logs.PeekQueue(kTree, kLeaves);
    ASSERT_TRUE(queued.ok());
    IntegrationBatch batch;
    merkle::CompactRange range;
    for (int i = 0; i < kLeaves; ++i) {
      batch.consumed_queue_seqs.push_back((*queued)[i].queue_seq);
      batch.leaves.push_back((*queued)[i].leaf);
      batch.leaves.back().set_leaf_index(i);
      batch.leaves.back().mutable_integrate_timestamp()->set_seconds(
          1764599999);
      range.Append(leaves[i].merkle_leaf_hash(),
                   [&](const merkle::NodeID& id, const std::string& hash) {
                     batch.nodes.emplace_back(id, hash);
                   });
    }
    batch.tree_size = kLeaves;
    batch.revision = 1;
    ASSERT_TRUE(logs.Integrate(kTree, batch).ok());
    auto stored = logs.GetLeavesByRange(kTree, 0, kLeaves, kLeaves);
    ASSERT_TRUE(stored.ok());
    integrated_ = *stored;
    for (int b = 0; b < 3; ++b) bundles_.push_back(StoredBundle(b));
  }

  std::string StoredBundle(int bundle) {
    std::string value;
    EXPECT_TRUE(db_->db()
                    ->Get(::rocksdb::ReadOptions(), db_->log(),
                          keys::Bundle(kTree, bundle), &value)
                    .ok());
    return value;
  }

  // Rewrites leaves [from, kLeaves) as older versions stored them.
  void MakeLegacy(int from) {
    ::rocksdb::WriteBatch batch;
    for (int i = from; i < kLeaves; ++i) {
      batch.Put(db_->log(), keys::Leaf(kTree, i),
                integrated_[i].SerializeAsString());
      batch.Delete(db_->log(), keys::LongValue(kTree, i));
    }
    for (int b = from / kLeavesPerBundle; b < 3; ++b) {
      batch.Delete(db_->log(), keys::Bundle(kTree, b));
      batch.Delete(db_->log(), keys::Sidecar(kTree, b));
    }
    ASSERT_TRUE(db_->db()->Write(db_->durable_write(), &batch).ok());
  }

  // Makes leaves from `from` on legacy, deletes the records of [first,
  // end), and expects the move to fail with DATA_LOSS saying `message`.
  void ExpectDataLoss(int from, std::pair<int, int> deleted,
                      const std::string& message) {
    MakeLegacy(from);
    for (int i = deleted.first; i < deleted.second; ++i) {
      ASSERT_TRUE(
          db_->db()
              ->Delete(db_->durable_write(), db_->log(), keys::Leaf(kTree, i))
              .ok());
    }
    auto moved = MoveLeavesIntoBundles(*db_);
    EXPECT_EQ(moved.status().code(), absl::StatusCode::kDataLoss);
    EXPECT_NE(moved.status().message().find(message), std::string::npos)
        << moved.status();
  }

  size_t LeafRecords() {
    const std::string prefix = keys::Prefix(kTree, keys::kLeaf);
    std::unique_ptr<::rocksdb::Iterator> it(
        db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->log()));
    size_t n = 0;
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
         it->Next()) {
      ++n;
    }
    return n;
  }

  void ExpectLeavesAsIntegrated() {
    RocksLogStorage logs(db_.get());
    auto leaves = logs.GetLeavesByRange(kTree, 0, kLeaves, kLeaves);
    ASSERT_TRUE(leaves.ok()) << leaves.status();
    ASSERT_EQ(leaves->size(), static_cast<size_t>(kLeaves));
    for (int i = 0; i < kLeaves; ++i) {
      EXPECT_TRUE(MessageDifferencer::Equals((*leaves)[i], integrated_[i]))
          << i;
    }
    for (int b = 0; b < 3; ++b) EXPECT_EQ(StoredBundle(b), bundles_[b]) << b;
  }

  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::vector<trillian::LogLeaf> integrated_;
  std::vector<std::string> bundles_;
};

TEST_F(BundleUpgradeTest, MovesEveryIntegratedLeafIntoItsBundle) {
  MakeLegacy(0);
  // A PREORDERED_LOG leaf ahead of the tree is not integrated yet.
  trillian::LogLeaf ahead = integrated_[0];
  ahead.set_leaf_index(kLeaves + 5);
  ASSERT_TRUE(db_->db()
                  ->Put(db_->durable_write(), db_->log(),
                        keys::Leaf(kTree, kLeaves + 5),
                        ahead.SerializeAsString())
                  .ok());
  ASSERT_EQ(LeafRecords(), static_cast<size_t>(kLeaves + 1));

  auto moved = MoveLeavesIntoBundles(*db_);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, static_cast<uint64_t>(kLeaves));
  EXPECT_EQ(LeafRecords(), 1u);
  ExpectLeavesAsIntegrated();
  EXPECT_EQ(*MoveLeavesIntoBundles(*db_), 0u);
}

TEST_F(BundleUpgradeTest, AnInterruptedMoveResumes) {
  MakeLegacy(256);  // Bundle 0 was moved before the interruption.
  auto moved = MoveLeavesIntoBundles(*db_);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, static_cast<uint64_t>(kLeaves - 256));
  EXPECT_EQ(LeafRecords(), 0u);
  ExpectLeavesAsIntegrated();
}

// Leaves missing below the tree's size anywhere (a leaf, a whole bundle,
// the tail, the start of what is left) are reported, not moved around.
TEST_F(BundleUpgradeTest, AMissingLeafIsDataLoss) {
  ExpectDataLoss(0, {400, 401}, "lacks leaf 400");
}
TEST_F(BundleUpgradeTest, AMissingBundleIsDataLoss) {
  ExpectDataLoss(0, {256, 512}, "lacks leaf 256");
}
TEST_F(BundleUpgradeTest, AMissingTailIsDataLoss) {
  ExpectDataLoss(0, {590, kLeaves}, "lacks leaf 590");
}
TEST_F(BundleUpgradeTest, AMissingStartIsDataLoss) {
  ExpectDataLoss(256, {256, 257}, "lacks leaves before 257");
}
TEST_F(BundleUpgradeTest, AMissingBundleBeforeTheRestIsDataLoss) {
  ASSERT_TRUE(
      db_->db()
          ->Delete(db_->durable_write(), db_->log(), keys::Bundle(kTree, 0))
          .ok());
  ExpectDataLoss(256, {0, 0}, "lacks leaves before 256");
}
TEST_F(BundleUpgradeTest, AMissingLastBundleIsDataLoss) {
  ASSERT_TRUE(
      db_->db()
          ->Delete(db_->durable_write(), db_->log(), keys::Bundle(kTree, 2))
          .ok());
  auto moved = MoveLeavesIntoBundles(*db_);
  EXPECT_EQ(moved.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_NE(moved.status().message().find("lacks leaf 599"), std::string::npos)
      << moved.status();
}

}  // namespace
}  // namespace trellis::storage::rocksdb
