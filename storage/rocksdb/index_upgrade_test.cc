// Data directories from before the index column family keep identity and
// hash index records in the log family: after the move, de-duplication and
// lookups by hash find the leaves as before, and a second run moves nothing.
#include "storage/rocksdb/index_upgrade.h"

#include "gtest/gtest.h"
#include "merkle/compact_range.h"
#include "merkle/hasher.h"
#include "storage/rocksdb/keys.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/root_record.h"
#include "util/test_util.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr int64_t kTree = 5;

TEST(IndexUpgradeTest, MovesIdentityAndHashRecordsOutOfTheLogFamily) {
  testing::TempDir dir;
  auto db = Database::Open({dir.path()});
  ASSERT_TRUE(db.ok()) << db.status();
  ASSERT_TRUE((*db)
                  ->db()
                  ->Put((*db)->durable_write(), (*db)->trees(),
                        keys::Tree(kTree), trillian::Tree().SerializeAsString())
                  .ok());
  // A log with 3 integrated leaves, one with its own identity hash, as the
  // current code writes it...
  {
    RocksLogStorage logs(db->get());
    trillian::SignedLogRoot root;
    root.set_log_root("root0");
    ASSERT_TRUE(logs.InitRoot(kTree, root).ok());
    std::vector<trillian::LogLeaf> leaves(3);
    for (int i = 0; i < 3; ++i) {
      leaves[i].set_leaf_value("v" + std::to_string(i));
      leaves[i].set_merkle_leaf_hash(merkle::HashLeaf(leaves[i].leaf_value()));
      leaves[i].set_leaf_identity_hash(leaves[i].merkle_leaf_hash());
    }
    leaves[2].set_leaf_identity_hash(merkle::Sha256("custom identity"));
    ASSERT_TRUE(logs.QueueLeaves(kTree, leaves).ok());
    auto queued = logs.PeekQueue(kTree, 10);
    ASSERT_TRUE(queued.ok());
    IntegrationBatch batch;
    merkle::CompactRange range;
    for (int i = 0; i < 3; ++i) {
      batch.consumed_queue_seqs.push_back((*queued)[i].queue_seq);
      batch.leaves.push_back((*queued)[i].leaf);
      batch.leaves.back().set_leaf_index(i);
      range.Append((*queued)[i].leaf.merkle_leaf_hash(),
                   [&](const merkle::NodeID& id, const std::string& hash) {
                     batch.nodes.emplace_back(id, hash);
                   });
    }
    batch.root.set_log_root("root1");
    batch.tree_size = 3;
    batch.revision = 1;
    ASSERT_TRUE(logs.Integrate(kTree, batch).ok());
  }
  // ...then moved back into the log family, as older versions kept them.
  uint64_t legacy = 0;
  {
    ::rocksdb::WriteBatch back;
    std::unique_ptr<::rocksdb::Iterator> it(
        (*db)->db()->NewIterator(::rocksdb::ReadOptions(), (*db)->index()));
    for (it->SeekToFirst(); it->Valid(); it->Next(), ++legacy) {
      back.Put((*db)->log(), it->key(), it->value());
      back.Delete((*db)->index(), it->key());
    }
    ASSERT_TRUE((*db)->db()->Write((*db)->durable_write(), &back).ok());
  }
  ASSERT_EQ(legacy, 4u);  // Three identities and one hash record.

  auto moved = MoveLogIndexRecords(**db);
  ASSERT_TRUE(moved.ok()) << moved.status();
  EXPECT_EQ(*moved, 4u);
  EXPECT_EQ(*MoveLogIndexRecords(**db), 0u);

  RocksLogStorage logs(db->get());
  // Held leaves are found again: re-queueing them adds nothing.
  trillian::LogLeaf again;
  again.set_leaf_value("v1");
  again.set_merkle_leaf_hash(merkle::HashLeaf("v1"));
  again.set_leaf_identity_hash(again.merkle_leaf_hash());
  auto outcome = logs.QueueLeaves(kTree, {again});
  ASSERT_TRUE(outcome.ok());
  EXPECT_FALSE((*outcome)[0].added);
  EXPECT_EQ((*outcome)[0].leaf.leaf_index(), 1);
  // And the leaf with its own identity through the hash index.
  auto indices = logs.IndicesByHash(kTree, merkle::HashLeaf("v2"));
  ASSERT_TRUE(indices.ok());
  EXPECT_EQ(*indices, std::vector<uint64_t>{2});
}

}  // namespace
}  // namespace trellis::storage::rocksdb
