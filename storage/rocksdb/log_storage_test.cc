#include "storage/rocksdb/log_storage.h"

#include <thread>

#include "absl/container/flat_hash_set.h"
#include "gtest/gtest.h"
#include "merkle/compact_range.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "merkle/proof_builder.h"
#include "merkle/verifier.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/identity_record.h"
#include "storage/rocksdb/keys.h"
#include "util/test_util.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr int64_t kTree = 42;

trillian::LogLeaf Leaf(const std::string& value) {
  trillian::LogLeaf leaf;
  leaf.set_leaf_value(value);
  leaf.set_merkle_leaf_hash(merkle::HashLeaf(value));
  leaf.set_leaf_identity_hash(leaf.merkle_leaf_hash());
  return leaf;
}

trillian::SignedLogRoot Root(uint64_t size, const std::string& hash,
                             uint64_t revision) {
  merkle::LogRootV1 root;
  root.tree_size = size;
  root.root_hash = hash;
  root.revision = revision;
  trillian::SignedLogRoot signed_root;
  signed_root.set_log_root(*merkle::SerializeLogRoot(root));
  return signed_root;
}

class RocksLogStorageTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    storage_.reset();
    db_.reset();
    auto db = Database::Open({dir_.path()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    storage_ = std::make_unique<RocksLogStorage>(db_.get());
  }

  // What the sequencer does, minus signing: integrates the queue (up to
  // `max` leaves), or for a PREORDERED_LOG the leaves stored from the
  // tree's size on.
  void IntegrateQueue(size_t max = 1000000, bool preordered = false) {
    auto root = storage_->LatestRoot(kTree);
    ASSERT_TRUE(root.ok() && root->has_value());
    merkle::LogRootV1 current = *merkle::ParseLogRoot((*root)->log_root());
    auto reader = storage_->NodeReader(kTree);
    std::vector<std::string> edge;
    if (current.tree_size > 0) {
      auto nodes =
          reader->GetNodes(merkle::DecomposeRange(0, current.tree_size));
      ASSERT_TRUE(nodes.ok()) << nodes.status();
      edge = *nodes;
    }
    auto range = merkle::CompactRange::FromHashes(current.tree_size, edge);
    ASSERT_TRUE(range.ok());
    std::vector<QueuedEntry> entries;
    if (preordered) {
      auto run = storage_->PeekSequenced(kTree, current.tree_size, max);
      ASSERT_TRUE(run.ok());
      for (trillian::LogLeaf& leaf : *run) entries.push_back({0, leaf});
    } else {
      auto queued = storage_->PeekQueue(kTree, max);
      ASSERT_TRUE(queued.ok());
      entries = std::move(*queued);
    }
    IntegrationBatch batch;
    for (QueuedEntry& e : entries) {
      e.leaf.set_leaf_index(range->size());
      e.leaf.mutable_integrate_timestamp()->set_seconds(1764594000);
      range->Append(e.leaf.merkle_leaf_hash(),
                    [&](const merkle::NodeID& id, const std::string& h) {
                      batch.nodes.emplace_back(id, h);
                    });
      if (!preordered) batch.consumed_queue_seqs.push_back(e.queue_seq);
      batch.leaves.push_back(e.leaf);
    }
    batch.root = Root(range->size(), range->Root(), current.revision + 1);
    batch.tree_size = range->size();
    batch.revision = current.revision + 1;
    ASSERT_TRUE(storage_->Integrate(kTree, batch).ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksLogStorage> storage_;
};

// One QueueLeaves call is one queue record: a crash after part of it was
// integrated resumes with the rest, and every leaf is found where it went.
TEST_F(RocksLogStorageTest, AQueueRecordPartlyIntegratedResumesAfterRestart) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  std::vector<trillian::LogLeaf> leaves;
  for (int i = 0; i < 10; ++i) leaves.push_back(Leaf("r" + std::to_string(i)));
  ASSERT_TRUE(storage_->QueueLeaves(kTree, leaves).ok());
  ASSERT_TRUE(storage_->QueueLeaves(kTree, {Leaf("later")}).ok());
  IntegrateQueue(4);
  Open();  // A restart between passes.
  auto queued = storage_->PeekQueue(kTree, 100);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 7u);
  EXPECT_EQ((*queued)[0].leaf.leaf_value(), "r4");
  EXPECT_EQ((*queued)[6].leaf.leaf_value(), "later");
  // Queued and integrated leaves of the same record are both held.
  auto again = storage_->QueueLeaves(kTree, {Leaf("r2"), Leaf("r8")});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)[0].added);
  EXPECT_EQ((*again)[0].leaf.leaf_index(), 2);
  EXPECT_FALSE((*again)[1].added);
  EXPECT_EQ((*again)[1].leaf.leaf_value(), "r8");
  IntegrateQueue();
  Open();
  EXPECT_TRUE(storage_->PeekQueue(kTree, 100)->empty());
  auto leaves_back = storage_->GetLeavesByRange(kTree, 0, 20, 20);
  ASSERT_TRUE(leaves_back.ok());
  ASSERT_EQ(leaves_back->size(), 11u);
  EXPECT_EQ((*leaves_back)[8].leaf_value(), "r8");
  EXPECT_EQ((*leaves_back)[10].leaf_value(), "later");
  auto held = storage_->QueueLeaves(kTree, {Leaf("r8"), Leaf("later")});
  ASSERT_TRUE(held.ok());
  EXPECT_EQ((*held)[0].leaf.leaf_index(), 8);
  EXPECT_EQ((*held)[1].leaf.leaf_index(), 10);
  // Nothing of the queue is left in the database.
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->log()));
  for (const char tag : {keys::kQueueRecord, keys::kQueue}) {
    it->Seek(keys::Prefix(kTree, tag));
    EXPECT_FALSE(it->Valid() &&
                 it->key().starts_with(keys::Prefix(kTree, tag)));
  }
}

// Data directories of older versions hold one queue record per leaf, with
// 'Q' identity positions: they are read, deduplicated and integrated.
TEST_F(RocksLogStorageTest, PerLeafQueueRecordsOfOlderVersionsAreIntegrated) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  ::rocksdb::WriteBatch legacy;
  for (uint64_t seq : {3, 4}) {
    const trillian::LogLeaf leaf = Leaf("old" + std::to_string(seq));
    legacy.Put(db_->log(), keys::Queue(kTree, seq), leaf.SerializeAsString());
    std::string record;
    AppendPosition({LeafPosition::Kind::kLegacyQueued, seq}, &record);
    legacy.Put(db_->index(), keys::Identity(kTree, leaf.leaf_identity_hash()),
               record);
  }
  ASSERT_TRUE(db_->db()->Write(db_->durable_write(), &legacy).ok());
  Open();
  auto dup = storage_->QueueLeaves(kTree, {Leaf("old3"), Leaf("new")});
  ASSERT_TRUE(dup.ok());
  EXPECT_FALSE((*dup)[0].added);
  EXPECT_TRUE((*dup)[1].added);
  auto queued = storage_->PeekQueue(kTree, 100);
  ASSERT_EQ(queued->size(), 3u);
  EXPECT_EQ((*queued)[0].leaf.leaf_value(), "old3");
  EXPECT_EQ((*queued)[1].leaf.leaf_value(), "old4");
  EXPECT_EQ((*queued)[2].leaf.leaf_value(), "new");
  IntegrateQueue();
  Open();
  auto held = storage_->QueueLeaves(kTree, {Leaf("old4"), Leaf("new")});
  ASSERT_TRUE(held.ok());
  EXPECT_EQ((*held)[0].leaf.leaf_index(), 1);
  EXPECT_EQ((*held)[1].leaf.leaf_index(), 2);
  EXPECT_TRUE(storage_->PeekQueue(kTree, 100)->empty());
}

TEST_F(RocksLogStorageTest, AFullQueuePushesBackUntilIntegrated) {
  storage_ =
      std::make_unique<RocksLogStorage>(db_.get(), kDefaultLogTileCacheBytes,
                                        /*max_queued_bytes=*/2000);
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  std::vector<trillian::LogLeaf> leaves;
  for (int i = 0; i < 5; ++i) leaves.push_back(Leaf(std::string(100, 'a' + i)));
  ASSERT_TRUE(storage_->QueueLeaves(kTree, leaves).ok());
  auto refused = storage_->QueueLeaves(kTree, {Leaf(std::string(800, 'z'))});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kResourceExhausted);
  IntegrateQueue();
  EXPECT_TRUE(storage_->QueueLeaves(kTree, {Leaf(std::string(800, 'z'))}).ok());
}

TEST_F(RocksLogStorageTest, InitOnce) {
  EXPECT_FALSE(storage_->LatestRoot(kTree)->has_value());
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  EXPECT_EQ(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).code(),
            absl::StatusCode::kAlreadyExists);
  Open();
  EXPECT_TRUE(storage_->LatestRoot(kTree)->has_value());
}

TEST_F(RocksLogStorageTest, QueueDeduplicatesIntegratesAndProves) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  std::vector<trillian::LogLeaf> leaves;
  for (int i = 0; i < 600; ++i) leaves.push_back(Leaf("v" + std::to_string(i)));
  leaves.push_back(Leaf("v3"));  // Duplicate inside the call.
  auto outcomes = storage_->QueueLeaves(kTree, leaves);
  ASSERT_TRUE(outcomes.ok()) << outcomes.status();
  ASSERT_EQ(outcomes->size(), 601u);
  EXPECT_TRUE((*outcomes)[3].added);
  EXPECT_FALSE((*outcomes)[600].added);
  EXPECT_EQ((*outcomes)[600].leaf.leaf_value(), "v3");

  // A duplicate of a queued leaf returns the queued one.
  auto again = storage_->QueueLeaves(kTree, {Leaf("v10")});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)[0].added);
  EXPECT_EQ((*again)[0].leaf.leaf_value(), "v10");

  IntegrateQueue();
  auto root = storage_->LatestRoot(kTree);
  merkle::LogRootV1 parsed = *merkle::ParseLogRoot((**root).log_root());
  EXPECT_EQ(parsed.tree_size, 600u);
  EXPECT_EQ(parsed.revision, 1u);
  EXPECT_TRUE(storage_->PeekQueue(kTree, 10)->empty());

  // A duplicate of an integrated leaf returns it with its index.
  again = storage_->QueueLeaves(kTree, {Leaf("v10")});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)[0].added);
  EXPECT_EQ((*again)[0].leaf.leaf_index(), 10);

  // Proofs from the stored tiles verify against the root.
  auto reader = storage_->NodeReader(kTree);
  for (uint64_t index : {0, 1, 255, 256, 599}) {
    auto proof = merkle::BuildInclusionProof(index, 600, *reader);
    ASSERT_TRUE(proof.ok()) << proof.status();
    EXPECT_TRUE(merkle::VerifyInclusion(
                    index, 600, merkle::HashLeaf("v" + std::to_string(index)),
                    *proof, parsed.root_hash)
                    .ok());
  }

  // Leaves by index, range and hash.
  auto by_index = storage_->GetLeavesByIndex(kTree, {5, 2});
  ASSERT_TRUE(by_index.ok());
  EXPECT_EQ((*by_index)[0].leaf_value(), "v5");
  EXPECT_EQ((*by_index)[1].leaf_index(), 2);
  EXPECT_EQ(storage_->GetLeavesByIndex(kTree, {600}).status().code(),
            absl::StatusCode::kNotFound);
  auto range = storage_->GetLeavesByRange(kTree, 590, 100, 600);
  ASSERT_TRUE(range.ok());
  ASSERT_EQ(range->size(), 10u);
  EXPECT_EQ(range->back().leaf_index(), 599);
  auto indices = storage_->IndicesByHash(kTree, merkle::HashLeaf("v7"));
  ASSERT_TRUE(indices.ok());
  EXPECT_EQ(*indices, std::vector<uint64_t>{7});
  EXPECT_TRUE(
      storage_->IndicesByHash(kTree, merkle::HashLeaf("nope"))->empty());
}

TEST_F(RocksLogStorageTest, QueueSurvivesReopenAndIntegrationContinues) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  ASSERT_TRUE(storage_->QueueLeaves(kTree, {Leaf("a"), Leaf("b")}).ok());
  IntegrateQueue();
  ASSERT_TRUE(storage_->QueueLeaves(kTree, {Leaf("c"), Leaf("d")}).ok());
  Open();
  auto queued = storage_->PeekQueue(kTree, 10);
  ASSERT_TRUE(queued.ok());
  ASSERT_EQ(queued->size(), 2u);
  EXPECT_EQ((*queued)[0].leaf.leaf_value(), "c");
  IntegrateQueue();
  Open();  // Queue empty: sequence numbers must still not be reused.
  ASSERT_TRUE(storage_->QueueLeaves(kTree, {Leaf("e")}).ok());
  IntegrateQueue();
  for (const auto& [value, index] :
       std::vector<std::pair<std::string, int>>{{"a", 0}, {"c", 2}, {"e", 4}}) {
    auto held = storage_->QueueLeaves(kTree, {Leaf(value)});
    ASSERT_TRUE(held.ok());
    EXPECT_FALSE((*held)[0].added);
    EXPECT_EQ((*held)[0].leaf.leaf_value(), value);
    EXPECT_EQ((*held)[0].leaf.leaf_index(), index);
    EXPECT_EQ(*storage_->IndicesByHash(kTree, merkle::HashLeaf(value)),
              std::vector<uint64_t>{static_cast<uint64_t>(index)});
  }
  merkle::LogRootV1 parsed =
      *merkle::ParseLogRoot((*storage_->LatestRoot(kTree))->log_root());
  EXPECT_EQ(parsed.tree_size, 5u);
  EXPECT_EQ(parsed.revision, 3u);
  merkle::CompactRange expected;
  for (const char* v : {"a", "b", "c", "d", "e"}) {
    expected.Append(merkle::HashLeaf(v), nullptr);
  }
  EXPECT_EQ(parsed.root_hash, expected.Root());
}

TEST_F(RocksLogStorageTest, CustomIdentityHashesAreFoundByMerkleHash) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  // Two leaves with the same value but different identities: both kept, both
  // found by their (shared) Merkle hash.
  trillian::LogLeaf first = Leaf("same value");
  first.set_leaf_identity_hash(merkle::Sha256("id-1"));
  trillian::LogLeaf second = Leaf("same value");
  second.set_leaf_identity_hash(merkle::Sha256("id-2"));
  auto outcomes = storage_->QueueLeaves(kTree, {Leaf("other"), first, second});
  ASSERT_TRUE(outcomes.ok());
  EXPECT_TRUE((*outcomes)[1].added && (*outcomes)[2].added);
  EXPECT_TRUE(
      storage_->IndicesByHash(kTree, merkle::HashLeaf("same value"))->empty());
  IntegrateQueue();
  EXPECT_EQ(*storage_->IndicesByHash(kTree, merkle::HashLeaf("same value")),
            (std::vector<uint64_t>{1, 2}));
  // A leaf is not found by a hash equal to another leaf's identity.
  EXPECT_TRUE(storage_->IndicesByHash(kTree, merkle::Sha256("id-1"))->empty());
}

TEST_F(RocksLogStorageTest, IntegrateRefusesGapsInRevision) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  IntegrationBatch batch;
  batch.root = Root(0, merkle::EmptyRoot(), 2);
  batch.revision = 2;
  EXPECT_EQ(storage_->Integrate(kTree, batch).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(storage_->Integrate(99, batch).code(),
            absl::StatusCode::kFailedPrecondition);
  // A size that does not add up to the leaves is refused too.
  batch.revision = 1;
  batch.tree_size = 3;
  EXPECT_EQ(storage_->Integrate(kTree, batch).code(),
            absl::StatusCode::kFailedPrecondition);
}

// Storage keeps roots as opaque bytes: what it is told about size and
// revision is what counts, and the exact bytes come back after a restart.
TEST_F(RocksLogStorageTest, RootsAreOpaque) {
  trillian::SignedLogRoot first;
  first.set_log_root("not a LogRootV1");
  first.set_log_root_signature("sig0");
  ASSERT_TRUE(storage_->InitRoot(kTree, first).ok());
  IntegrationBatch batch;
  batch.leaves.push_back(Leaf("opaque"));
  batch.leaves.back().set_leaf_index(0);
  batch.nodes.emplace_back(merkle::NodeID{0, 0}, merkle::HashLeaf("opaque"));
  batch.root.set_log_root(std::string("\xff\x00 opaque", 9));
  batch.root.set_log_root_signature("sig1");
  batch.tree_size = 1;
  batch.revision = 1;
  ASSERT_TRUE(storage_->Integrate(kTree, batch).ok());
  Open();
  auto latest = storage_->LatestRoot(kTree);
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->SerializeAsString(), batch.root.SerializeAsString());
  EXPECT_FALSE(*storage_->HasUnintegratedLeaves(kTree));
  // The stored size and revision carry on from what the batch said.
  IntegrationBatch next;
  next.tree_size = 1;
  next.revision = 2;
  EXPECT_TRUE(storage_->Integrate(kTree, next).ok());
  next.revision = 3;
  next.tree_size = 2;
  EXPECT_EQ(storage_->Integrate(kTree, next).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RocksLogStorageTest, ConcurrentQueueingKeepsEachIdentityOnce) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  std::vector<std::thread> threads;
  std::atomic<int> added{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        std::vector<trillian::LogLeaf> leaves;
        // Every thread submits the same 50 values per round, plus its own.
        for (int i = 0; i < 50; ++i) {
          leaves.push_back(Leaf("shared" + std::to_string(round * 50 + i)));
        }
        leaves.push_back(Leaf("own" + std::to_string(t * 100 + round)));
        auto outcomes = storage_->QueueLeaves(kTree, leaves);
        ASSERT_TRUE(outcomes.ok());
        for (const auto& o : *outcomes) added += o.added;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(added.load(), 20 * 50 + 4 * 20);
  auto queued = storage_->PeekQueue(kTree, 1000000);
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->size(), 20u * 50 + 4 * 20);
  absl::flat_hash_set<std::string> values;
  for (const auto& e : *queued) values.insert(e.leaf.leaf_value());
  EXPECT_EQ(values.size(), queued->size());
}

// How many records of one kind the log family holds for the tree.
size_t CountRecords(Database& db, char tag) {
  const std::string prefix = keys::Prefix(kTree, tag);
  std::unique_ptr<::rocksdb::Iterator> it(
      db.db()->NewIterator(::rocksdb::ReadOptions(), db.log()));
  size_t n = 0;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    ++n;
  }
  return n;
}

std::string C2spBundle(int first, int count) {
  std::string bundle;
  for (int i = first; i < first + count; ++i) {
    const std::string value = "v" + std::to_string(i);
    bundle.push_back(0);
    bundle.push_back(static_cast<char>(value.size()));
    bundle += value;
  }
  return bundle;
}

// Each leaf's value is stored once, in its C2SP entry bundle; what else a
// LogLeaf carries comes back from the sidecar, across passes that extend
// the right-edge bundle and across a reopen.
TEST_F(RocksLogStorageTest, IntegratedLeavesAreStoredOnceInEntryBundles) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  std::vector<trillian::LogLeaf> leaves;
  for (int i = 0; i < 300; ++i) {
    leaves.push_back(Leaf("v" + std::to_string(i)));
    leaves.back().set_extra_data("extra" + std::to_string(i));
    leaves.back().mutable_queue_timestamp()->set_seconds(1764593000 + i);
  }
  leaves[7].set_leaf_identity_hash(merkle::Sha256("identity 7"));
  ASSERT_TRUE(
      storage_->QueueLeaves(kTree, {leaves.begin(), leaves.begin() + 150})
          .ok());
  ASSERT_TRUE(
      storage_->QueueLeaves(kTree, {leaves.begin() + 150, leaves.end()}).ok());
  IntegrateQueue(100);
  IntegrateQueue(100);
  Open();  // The next pass reads the right-edge bundle back.
  IntegrateQueue(100);

  EXPECT_EQ(CountRecords(*db_, keys::kLeaf), 0u);
  EXPECT_EQ(CountRecords(*db_, keys::kBundle), 2u);
  std::string stored;
  ASSERT_TRUE(db_->db()
                  ->Get(::rocksdb::ReadOptions(), db_->log(),
                        keys::Bundle(kTree, 0), &stored)
                  .ok());
  EXPECT_EQ(stored, C2spBundle(0, 256));
  EXPECT_EQ(*storage_->ReadEntryBundle(kTree, 1, 44), C2spBundle(256, 44));
  EXPECT_EQ(*storage_->ReadEntryBundle(kTree, 1, 3), C2spBundle(256, 3));
  EXPECT_EQ(storage_->ReadEntryBundle(kTree, 1, 45).status().code(),
            absl::StatusCode::kNotFound);

  auto all = storage_->GetLeavesByRange(kTree, 0, 1000, 300);
  ASSERT_TRUE(all.ok()) << all.status();
  ASSERT_EQ(all->size(), 300u);
  for (int i = 0; i < 300; ++i) {
    const trillian::LogLeaf& got = (*all)[i];
    EXPECT_EQ(got.leaf_value(), leaves[i].leaf_value());
    EXPECT_EQ(got.extra_data(), leaves[i].extra_data());
    EXPECT_EQ(got.merkle_leaf_hash(), leaves[i].merkle_leaf_hash());
    EXPECT_EQ(got.leaf_identity_hash(), leaves[i].leaf_identity_hash());
    EXPECT_EQ(got.leaf_index(), i);
    EXPECT_EQ(got.queue_timestamp().seconds(), 1764593000 + i);
    EXPECT_EQ(got.integrate_timestamp().seconds(), 1764594000);
  }
  // The custom identity is still de-duplicated and found by Merkle hash.
  auto again = storage_->QueueLeaves(kTree, {leaves[7]});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)[0].added);
  EXPECT_EQ((*again)[0].leaf.extra_data(), "extra7");
  EXPECT_EQ(*storage_->IndicesByHash(kTree, leaves[7].merkle_leaf_hash()),
            std::vector<uint64_t>{7});
}

// A value too long for a bundle entry (logs without entry bundles take
// them) is stored in a record of its own, not in the bundle's records that
// every pass rewrites; it comes back whole, and the bundle is not served.
TEST_F(RocksLogStorageTest, LongValuesAreStoredApart) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  const std::string long_value(70000, 'L');
  ASSERT_TRUE(
      storage_->QueueLeaves(kTree, {Leaf("short"), Leaf(long_value)}).ok());
  IntegrateQueue();
  ASSERT_TRUE(storage_->QueueLeaves(kTree, {Leaf("after")}).ok());
  IntegrateQueue();
  EXPECT_EQ(CountRecords(*db_, keys::kLongValue), 1u);
  std::string sidecar;
  ASSERT_TRUE(db_->db()
                  ->Get(::rocksdb::ReadOptions(), db_->log(),
                        keys::Sidecar(kTree, 0), &sidecar)
                  .ok());
  EXPECT_LT(sidecar.size(), 100u);
  auto leaves = storage_->GetLeavesByRange(kTree, 0, 3, 3);
  ASSERT_TRUE(leaves.ok()) << leaves.status();
  ASSERT_EQ(leaves->size(), 3u);
  EXPECT_EQ((*leaves)[1].leaf_value(), long_value);
  EXPECT_EQ((*leaves)[2].leaf_value(), "after");
  EXPECT_EQ(storage_->ReadEntryBundle(kTree, 0, 2).status().code(),
            absl::StatusCode::kFailedPrecondition);
  auto again = storage_->QueueLeaves(kTree, {Leaf(long_value)});
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE((*again)[0].added);
  EXPECT_EQ((*again)[0].leaf.leaf_value(), long_value);
}

// PREORDERED_LOG leaves wait at their index until the tree reaches them,
// then move into their bundle; conflicts are still found either way.
TEST_F(RocksLogStorageTest, PreorderedLeavesMoveIntoBundles) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  std::vector<trillian::LogLeaf> leaves;
  for (int i : {0, 1, 2, 5}) {
    leaves.push_back(Leaf("v" + std::to_string(i)));
    leaves.back().set_leaf_index(i);
  }
  std::vector<trillian::LogLeaf> held;
  ASSERT_TRUE(storage_->AddSequencedLeaves(kTree, leaves, &held).ok());
  EXPECT_EQ(CountRecords(*db_, keys::kLeaf), 4u);
  IntegrateQueue(1000, /*preordered=*/true);
  EXPECT_EQ(CountRecords(*db_, keys::kLeaf), 1u);  // Index 5 still waits.
  EXPECT_EQ(*storage_->ReadEntryBundle(kTree, 0, 3), C2spBundle(0, 3));
  EXPECT_EQ(*storage_->HasUnintegratedLeaves(kTree), true);

  trillian::LogLeaf conflicting = Leaf("other");
  conflicting.set_leaf_index(1);
  auto results = storage_->AddSequencedLeaves(
      kTree, {leaves[1], conflicting, leaves[3]}, &held);
  ASSERT_TRUE(results.ok());
  EXPECT_EQ((*results)[0].code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ((*results)[1].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(held[1].leaf_value(), "v1");
  EXPECT_EQ((*results)[2].code(), absl::StatusCode::kAlreadyExists);
  auto by_index = storage_->GetLeavesByIndex(kTree, {2, 5});
  ASSERT_TRUE(by_index.ok());
  EXPECT_EQ((*by_index)[0].leaf_value(), "v2");
  EXPECT_EQ((*by_index)[1].leaf_value(), "v5");
}

// Identity records are keyed by 8 bytes of a hash of the identity hash:
// identities whose keys collide share one record, and each leaf is still
// held under its own identity, queued and integrated. (A collision is made
// here by copying one leaf's record to the other's key before it is
// queued.) Client-chosen identities that share their first bytes do not
// share a key.
TEST_F(RocksLogStorageTest, IdentitiesSharingTheirKeyAreTold) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  auto with_identity = [](const std::string& value, char last) {
    trillian::LogLeaf leaf = Leaf(value);
    leaf.set_leaf_identity_hash(std::string(8, 'S') + std::string(24, last));
    return leaf;
  };
  ASSERT_TRUE(storage_->QueueLeaves(kTree, {with_identity("b", 'b')}).ok());
  std::string b_record;
  ASSERT_TRUE(
      db_->db()
          ->Get(::rocksdb::ReadOptions(), db_->index(),
                keys::Identity(kTree,
                               with_identity("b", 'b').leaf_identity_hash()),
                &b_record)
          .ok());
  const std::string a_key =
      keys::Identity(kTree, with_identity("a", 'a').leaf_identity_hash());
  ASSERT_TRUE(
      db_->db()->Put(db_->durable_write(), db_->index(), a_key, b_record).ok());

  std::vector<std::thread> threads;
  for (char c = 'a'; c < 'k'; ++c) {
    if (c == 'b') continue;
    threads.emplace_back([&, c] {
      auto outcome =
          storage_->QueueLeaves(kTree, {with_identity(std::string(1, c), c)});
      ASSERT_TRUE(outcome.ok());
      EXPECT_TRUE((*outcome)[0].added) << c;
    });
  }
  for (std::thread& t : threads) t.join();
  auto expect_held = [&](bool integrated) {
    for (char c = 'a'; c < 'k'; ++c) {
      auto again =
          storage_->QueueLeaves(kTree, {with_identity("other value", c)});
      ASSERT_TRUE(again.ok());
      EXPECT_FALSE((*again)[0].added) << c;
      EXPECT_EQ((*again)[0].leaf.leaf_value(), std::string(1, c));
      EXPECT_EQ((*again)[0].leaf.has_integrate_timestamp(), integrated);
    }
  };
  expect_held(false);
  IntegrateQueue();
  expect_held(true);
  EXPECT_EQ(storage_->PeekQueue(kTree, 100)->size(), 0u);
  std::string a_record;
  ASSERT_TRUE(
      db_->db()
          ->Get(::rocksdb::ReadOptions(), db_->index(), a_key, &a_record)
          .ok());
  EXPECT_EQ(DecodePositions(a_record)->size(), 2u);
  const std::string prefix = keys::Prefix(kTree, keys::kIdentity);
  size_t records = 0;
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->index()));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    ++records;
  }
  EXPECT_EQ(records, 10u);
}

TEST_F(RocksLogStorageTest, SequencedLeavesConflicts) {
  ASSERT_TRUE(storage_->InitRoot(kTree, Root(0, merkle::EmptyRoot(), 0)).ok());
  std::vector<trillian::LogLeaf> leaves;
  for (int i = 0; i < 3; ++i) {
    leaves.push_back(Leaf("p" + std::to_string(i)));
    leaves.back().set_leaf_index(i);
  }
  std::vector<trillian::LogLeaf> held;
  auto results = storage_->AddSequencedLeaves(kTree, leaves, &held);
  ASSERT_TRUE(results.ok());
  for (const auto& r : *results) EXPECT_TRUE(r.ok());

  trillian::LogLeaf same = leaves[1];
  trillian::LogLeaf other_value = Leaf("other");
  other_value.set_leaf_index(2);
  trillian::LogLeaf moved = leaves[0];
  moved.set_leaf_index(7);
  results =
      storage_->AddSequencedLeaves(kTree, {same, other_value, moved}, &held);
  ASSERT_TRUE(results.ok());
  EXPECT_EQ((*results)[0].code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ((*results)[1].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(held[1].leaf_value(), "p2");
  EXPECT_EQ((*results)[2].code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(held[2].leaf_index(), 0);

  // Contiguous run from 0 stops at the gap.
  trillian::LogLeaf far = Leaf("p5");
  far.set_leaf_index(5);
  ASSERT_TRUE(storage_->AddSequencedLeaves(kTree, {far}, &held).ok());
  auto run = storage_->PeekSequenced(kTree, 0, 100);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->size(), 3u);
  EXPECT_EQ(storage_->PeekSequenced(kTree, 5, 100)->size(), 1u);
}

}  // namespace
}  // namespace trellis::storage::rocksdb
