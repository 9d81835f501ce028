// Data directories from before the index column family keep identity and
// hash index records in the log family: after the move, de-duplication and
// lookups by hash find the leaves as before, and a second run moves nothing.
#include "storage/rocksdb/index_upgrade.h"

#include "gtest/gtest.h"
#include "merkle/compact_range.h"
#include "merkle/hasher.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/identity_record.h"
#include "storage/rocksdb/keys.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/root_record.h"
#include "util/test_util.h"
#include "util/tls_codec.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr int64_t kTree = 5;

// A data directory holding one tree.
absl::StatusOr<std::unique_ptr<Database>> OpenWithTree(
    const testing::TempDir& dir) {
  auto db = Database::Open({dir.path()});
  if (!db.ok()) return db.status();
  absl::Status s = ToAbsl((*db)->db()->Put(
      (*db)->durable_write(), (*db)->trees(), keys::Tree(kTree),
      trillian::Tree().SerializeAsString()));
  if (!s.ok()) return s;
  return db;
}

TEST(IndexUpgradeTest, MovesIdentityAndHashRecordsOutOfTheLogFamily) {
  testing::TempDir dir;
  auto db = OpenWithTree(dir);
  ASSERT_TRUE(db.ok()) << db.status();
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

// Identity records of older versions were keyed by the whole identity hash
// and held one fixed-width position: after the rewrite, leaves are found
// as before, a position already under a new key (a colliding identity's,
// written by an interrupted run) is kept beside the one added, and a second
// run rewrites nothing.
TEST(IndexUpgradeTest, ShortensWholeHashIdentityRecords) {
  testing::TempDir dir;
  auto db = OpenWithTree(dir);
  ASSERT_TRUE(db.ok()) << db.status();
  // Three leaves queued in one call (queue record 0), two with identity
  // hashes of their own.
  std::vector<trillian::LogLeaf> leaves(3);
  for (int i = 0; i < 3; ++i) {
    leaves[i].set_leaf_value("v" + std::to_string(i));
    leaves[i].set_merkle_leaf_hash(merkle::HashLeaf(leaves[i].leaf_value()));
    leaves[i].set_leaf_identity_hash(leaves[i].merkle_leaf_hash());
  }
  leaves[1].set_leaf_identity_hash(std::string(8, 'S') + std::string(24, '1'));
  leaves[2].set_leaf_identity_hash(std::string(8, 'S') + std::string(24, '2'));
  {
    RocksLogStorage logs(db->get());
    ASSERT_TRUE(logs.InitRoot(kTree, trillian::SignedLogRoot()).ok());
    ASSERT_TRUE(logs.QueueLeaves(kTree, leaves).ok());
  }
  // Rewrite the identity records as older versions wrote them.
  ::rocksdb::WriteBatch old_form;
  {
    std::unique_ptr<::rocksdb::Iterator> it(
        (*db)->db()->NewIterator(::rocksdb::ReadOptions(), (*db)->index()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      old_form.Delete((*db)->index(), it->key());
    }
  }
  // Leaf 0's new key already holds a position (leaf 1's, standing in for
  // a colliding identity's).
  std::string collided;
  AppendPosition({LeafPosition::Kind::kQueued, 0, 1}, &collided);
  old_form.Put((*db)->index(),
               keys::Identity(kTree, leaves[0].leaf_identity_hash()), collided);
  for (uint32_t i = 0; i < 3; ++i) {
    std::string key = keys::Prefix(kTree, keys::kIdentity);
    key += leaves[i].leaf_identity_hash();
    std::string value = "B";
    PutUint(value, 0, 8);  // Queue record 0...
    PutUint(value, i, 4);  // ...its i-th leaf.
    old_form.Put((*db)->index(), key, value);
  }
  ASSERT_TRUE((*db)->db()->Write((*db)->durable_write(), &old_form).ok());

  auto shortened = ShortenIdentityRecords(**db);
  ASSERT_TRUE(shortened.ok()) << shortened.status();
  EXPECT_EQ(*shortened, 3u);
  EXPECT_EQ(*ShortenIdentityRecords(**db), 0u);
  size_t records = 0;
  {
    std::unique_ptr<::rocksdb::Iterator> it(
        (*db)->db()->NewIterator(::rocksdb::ReadOptions(), (*db)->index()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      EXPECT_EQ(it->key().size(), 8u + 1u + kIdentityKeyBytes);
      ++records;
    }
  }
  EXPECT_EQ(records, 3u);
  std::string record;
  ASSERT_TRUE((*db)
                  ->db()
                  ->Get(::rocksdb::ReadOptions(), (*db)->index(),
                        keys::Identity(kTree, leaves[0].leaf_identity_hash()),
                        &record)
                  .ok());
  EXPECT_EQ(DecodePositions(record)->size(), 2u);

  RocksLogStorage logs(db->get());
  for (int i = 0; i < 3; ++i) {
    auto outcome = logs.QueueLeaves(kTree, {leaves[i]});
    ASSERT_TRUE(outcome.ok()) << outcome.status();
    EXPECT_FALSE((*outcome)[0].added) << i;
    EXPECT_EQ((*outcome)[0].leaf.leaf_value(), leaves[i].leaf_value());
  }
}

}  // namespace
}  // namespace trellis::storage::rocksdb
