// Data directories written before roots became opaque hold plain
// SignedLogRoot records: storage refuses them until the upgrade rewrites
// them, after which every revision and the tree size are as before.
#include "storage/rocksdb/legacy_roots.h"

#include "gtest/gtest.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "storage/rocksdb/keys.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/root_record.h"
#include "util/test_util.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr int64_t kTree = 9;
constexpr int64_t kUninitialisedTree = 10;

trillian::SignedLogRoot LegacyRoot(uint64_t size, uint64_t revision) {
  merkle::LogRootV1 root;
  root.tree_size = size;
  root.root_hash = merkle::EmptyRoot();
  root.revision = revision;
  trillian::SignedLogRoot signed_root;
  signed_root.set_log_root(*merkle::SerializeLogRoot(root));
  signed_root.set_log_root_signature("sig" + std::to_string(revision));
  return signed_root;
}

class LegacyRootsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Database::Open({dir_.path()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    // Tree records, and roots as older versions wrote them.
    for (int64_t id : {kTree, kUninitialisedTree}) {
      ASSERT_TRUE(db_->db()
                      ->Put(db_->durable_write(), db_->trees(), keys::Tree(id),
                            trillian::Tree().SerializeAsString())
                      .ok());
    }
    for (uint64_t revision = 0; revision < 5; ++revision) {
      ASSERT_TRUE(
          db_->db()
              ->Put(db_->durable_write(), db_->log(),
                    keys::Root(kTree, revision),
                    LegacyRoot(revision * 10, revision).SerializeAsString())
              .ok());
    }
  }

  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(LegacyRootsTest, StorageRefusesLegacyRecordsUntilUpgraded) {
  {
    RocksLogStorage storage(db_.get());
    EXPECT_EQ(storage.LatestRoot(kTree).status().code(),
              absl::StatusCode::kFailedPrecondition);
  }
  auto rewritten = UpgradeLegacyRootRecords(*db_);
  ASSERT_TRUE(rewritten.ok()) << rewritten.status();
  EXPECT_EQ(*rewritten, 5u);
  // Every revision was rewritten with the size its root states.
  for (uint64_t revision = 0; revision < 5; ++revision) {
    std::string value;
    ASSERT_TRUE(db_->db()
                    ->Get({}, db_->log(), keys::Root(kTree, revision), &value)
                    .ok());
    auto record = DecodeRootRecord(value);
    ASSERT_TRUE(record.ok()) << record.status();
    EXPECT_EQ(record->tree_size, revision * 10);
    EXPECT_EQ(record->root.SerializeAsString(),
              LegacyRoot(revision * 10, revision).SerializeAsString());
  }
  RocksLogStorage storage(db_.get());
  auto latest = storage.LatestRoot(kTree);
  ASSERT_TRUE(latest.ok()) << latest.status();
  ASSERT_TRUE(latest->has_value());
  EXPECT_EQ((*latest)->log_root_signature(), "sig4");
  EXPECT_FALSE(storage.LatestRoot(kUninitialisedTree)->has_value());
  // The storage continues from the upgraded size and revision.
  IntegrationBatch batch;
  batch.tree_size = 40;
  batch.revision = 5;
  EXPECT_TRUE(storage.Integrate(kTree, batch).ok());
  // A second upgrade finds nothing to do.
  EXPECT_EQ(*UpgradeLegacyRootRecords(*db_), 0u);
}

TEST_F(LegacyRootsTest, UnparsableLegacyRootIsDataLoss) {
  trillian::SignedLogRoot broken;
  broken.set_log_root("truncated");
  ASSERT_TRUE(db_->db()
                  ->Put(db_->durable_write(), db_->log(), keys::Root(kTree, 5),
                        broken.SerializeAsString())
                  .ok());
  EXPECT_EQ(UpgradeLegacyRootRecords(*db_).status().code(),
            absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace trellis::storage::rocksdb
