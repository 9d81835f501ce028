// Backups against real RocksDB storage, real keys and the real sequencer.
#include "admin/backup.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "admin/key_store.h"
#include "admin/tree_manager.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "log/log_manager.h"
#include "log/sequencer.h"
#include "storage/rocksdb/keys.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/tree_storage.h"
#include "util/test_util.h"

namespace trellis::admin {
namespace {

using ::testing::HasSubstr;

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(*storage::rocksdb::Database::Open({Path("live")}));
    trees_ = std::make_unique<storage::rocksdb::RocksTreeStorage>(db_.get());
    logs_ = std::make_unique<storage::rocksdb::RocksLogStorage>(db_.get());
    keys_ = std::make_unique<KeyStore>(trees_.get(), "");
    manager_ =
        std::make_unique<TreeManager>(trees_.get(), logs_.get(), keys_.get());
    log::SignerProvider signers = [this](int64_t id) {
      return keys_->SignerFor(id);
    };
    sequencer_ = std::make_unique<log::Sequencer>(logs_.get(), signers, 1000);
    log_manager_ =
        std::make_unique<log::LogManager>(trees_.get(), logs_.get(), signers);
  }

  std::string Path(const std::string& name) const {
    return dir_.path() + "/" + name;
  }

  trillian::Tree CreateLog() {
    trillian::CreateTreeRequest request;
    request.mutable_tree()->set_tree_type(trillian::LOG);
    absl::StatusOr<trillian::Tree> tree = manager_->CreateTree(request);
    EXPECT_TRUE(tree.ok()) << tree.status();
    EXPECT_TRUE(log_manager_->Init(tree->tree_id()).ok());
    return *tree;
  }

  // Queues `count` leaves from `first` and integrates them.
  void Append(const trillian::Tree& tree, int first, int count) {
    google::protobuf::RepeatedPtrField<trillian::LogLeaf> leaves;
    for (int i = first; i < first + count; ++i) {
      leaves.Add()->set_leaf_value(absl::StrCat("leaf-", i));
    }
    ASSERT_TRUE(log_manager_->QueueLeaves(tree.tree_id(), leaves).ok());
    absl::StatusOr<size_t> integrated =
        sequencer_->IntegrateBatch(tree, absl::Now());
    ASSERT_TRUE(integrated.ok()) << integrated.status();
    ASSERT_EQ(*integrated, static_cast<size_t>(count));
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksTreeStorage> trees_;
  std::unique_ptr<storage::rocksdb::RocksLogStorage> logs_;
  std::unique_ptr<KeyStore> keys_;
  std::unique_ptr<TreeManager> manager_;
  std::unique_ptr<log::Sequencer> sequencer_;
  std::unique_ptr<log::LogManager> log_manager_;
};

TEST_F(BackupTest, RestoredBackupHoldsTheSignedStateAtBackupAndVerifies) {
  const trillian::Tree tree = CreateLog();
  Append(tree, 0, 600);
  absl::StatusOr<BackupSummary> backup = CreateBackup(*db_, Path("backup"));
  ASSERT_TRUE(backup.ok()) << backup.status();
  ASSERT_EQ(backup->trees.size(), 1u);
  EXPECT_EQ(backup->trees[0].tree_id, tree.tree_id());
  EXPECT_EQ(backup->trees[0].size, 600u);
  EXPECT_GT(backup->bytes, 0u);
  Append(tree, 600, 100);  // After the backup: not in it.

  ASSERT_TRUE(RestoreBackup(Path("backup"), Path("restored")).ok());
  std::vector<uint64_t> checked;
  absl::StatusOr<std::vector<TreeVerification>> verified = VerifyDataDirectory(
      Path("restored"), [&](int64_t, uint64_t n) { checked.push_back(n); });
  ASSERT_TRUE(verified.ok()) << verified.status();
  ASSERT_EQ(verified->size(), 1u);
  EXPECT_TRUE((*verified)[0].status.ok()) << (*verified)[0].status;
  EXPECT_TRUE((*verified)[0].recomputed);
  EXPECT_EQ((*verified)[0].size, 600u);
  EXPECT_EQ((*verified)[0].root_hash, backup->trees[0].root_hash);
  EXPECT_EQ(checked, (std::vector<uint64_t>{600}));
  // The live database verifies too, at its own size.
  db_.reset();
  logs_.reset();
  verified = VerifyDataDirectory(Path("live"));
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ((*verified)[0].size, 700u);
  EXPECT_TRUE((*verified)[0].status.ok());
}

TEST_F(BackupTest, AlteredLeafIsDataLoss) {
  const trillian::Tree tree = CreateLog();
  Append(tree, 0, 300);
  ASSERT_TRUE(CreateBackup(*db_, Path("backup")).ok());
  ASSERT_TRUE(RestoreBackup(Path("backup"), Path("restored")).ok());
  {
    // One byte of the last leaf of bundle 0 changes.
    absl::StatusOr<std::unique_ptr<storage::rocksdb::Database>> restored =
        storage::rocksdb::Database::Open({Path("restored")});
    ASSERT_TRUE(restored.ok());
    const std::string key = storage::rocksdb::keys::Bundle(tree.tree_id(), 0);
    std::string bundle;
    ASSERT_TRUE(
        (*restored)
            ->db()
            ->Get(::rocksdb::ReadOptions(), (*restored)->log(), key, &bundle)
            .ok());
    bundle.back() ^= 1;
    ASSERT_TRUE(
        (*restored)
            ->db()
            ->Put((*restored)->durable_write(), (*restored)->log(), key, bundle)
            .ok());
  }
  absl::StatusOr<std::vector<TreeVerification>> verified =
      VerifyDataDirectory(Path("restored"));
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ((*verified)[0].status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT((*verified)[0].status.message(),
              HasSubstr("leaf 255: its value does not hash"));
}

TEST_F(BackupTest, AlteredMerkleNodeIsDataLoss) {
  const trillian::Tree tree = CreateLog();
  Append(tree, 0, 600);  // Level-8 nodes 0 and 1 in the partial tile (1, 0).
  db_.reset();
  logs_.reset();
  {
    absl::StatusOr<std::unique_ptr<storage::rocksdb::Database>> live =
        storage::rocksdb::Database::Open({Path("live")});
    ASSERT_TRUE(live.ok());
    const std::string key = storage::rocksdb::keys::Tile(tree.tree_id(), 1, 0);
    std::string tile;
    ASSERT_TRUE((*live)
                    ->db()
                    ->Get(::rocksdb::ReadOptions(), (*live)->log(), key, &tile)
                    .ok());
    tile.back() ^= 1;
    ASSERT_TRUE((*live)
                    ->db()
                    ->Put((*live)->durable_write(), (*live)->log(), key, tile)
                    .ok());
  }
  absl::StatusOr<std::vector<TreeVerification>> verified =
      VerifyDataDirectory(Path("live"));
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ((*verified)[0].status.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT((*verified)[0].status.message(),
              HasSubstr("stored Merkle nodes do not match"));
}

TEST_F(BackupTest, MistakesAreClearErrors) {
  CreateLog();
  EXPECT_EQ(CreateBackup(*db_, "relative/dir").status().code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(CreateBackup(*db_, Path("backup")).ok());
  EXPECT_EQ(CreateBackup(*db_, Path("backup")).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(RestoreBackup(Path("backup"), Path("live")).code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(RestoreBackup(dir_.path(), Path("new")).code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(VerifyDataDirectory(Path("nothing")).status().code(),
            absl::StatusCode::kNotFound);
  // A tree without a root is reported, not taken for damage.
  trillian::CreateTreeRequest request;
  request.mutable_tree()->set_tree_type(trillian::LOG);
  ASSERT_TRUE(manager_->CreateTree(request).ok());
  db_.reset();
  logs_.reset();
  absl::StatusOr<std::vector<TreeVerification>> verified =
      VerifyDataDirectory(Path("live"));
  ASSERT_TRUE(verified.ok());
  ASSERT_EQ(verified->size(), 2u);
  int uninitialised = 0;
  for (const TreeVerification& tree : *verified) {
    if (absl::IsFailedPrecondition(tree.status)) ++uninitialised;
  }
  EXPECT_EQ(uninitialised, 1);
}

}  // namespace
}  // namespace trellis::admin
