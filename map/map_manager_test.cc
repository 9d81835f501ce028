// The map's operations on real RocksDB storage and real keys: revisions,
// proofs at old revisions, absence, restart, bad input, the history log.
#include "map/map_manager.h"

#include <random>

#include "absl/time/clock.h"
#include "admin/key_store.h"
#include "admin/tree_manager.h"
#include "crypto/signer.h"
#include "gtest/gtest.h"
#include "log/log_manager.h"
#include "log/sequencer.h"
#include "map/map_root.h"
#include "map/verifier.h"
#include "merkle/hasher.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/map_storage.h"
#include "storage/rocksdb/tree_storage.h"
#include "trellis_settings.pb.h"
#include "util/test_util.h"

namespace trellis::map {
namespace {

using google::protobuf::RepeatedPtrField;

std::string Index(int n) {
  std::string index = merkle::Sha256("index-" + std::to_string(n));
  return index;
}

class MapManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    manager_.reset();
    log_manager_.reset();
    tree_manager_.reset();
    keys_.reset();
    maps_.reset();
    logs_.reset();
    trees_.reset();
    db_.reset();
    db_ = std::move(*storage::rocksdb::Database::Open({dir_.path()}));
    trees_ = std::make_unique<storage::rocksdb::RocksTreeStorage>(db_.get());
    logs_ = std::make_unique<storage::rocksdb::RocksLogStorage>(db_.get());
    maps_ = std::make_unique<storage::rocksdb::RocksMapStorage>(db_.get());
    keys_ = std::make_unique<admin::KeyStore>(trees_.get(), "");
    tree_manager_ = std::make_unique<admin::TreeManager>(
        trees_.get(), logs_.get(), keys_.get());
    signers_ = [this](int64_t id) { return keys_->SignerFor(id); };
    log_manager_ =
        std::make_unique<log::LogManager>(trees_.get(), logs_.get(), signers_);
    manager_ = std::make_unique<MapManager>(trees_.get(), maps_.get(),
                                            log_manager_.get(), signers_);
  }

  trillian::Tree CreateTree(
      trillian::TreeType type,
      trillian::HashStrategy strategy = trillian::UNKNOWN_HASH_STRATEGY,
      int64_t history_log = 0) {
    trillian::CreateTreeRequest request;
    request.mutable_tree()->set_tree_type(type);
    request.mutable_tree()->set_hash_strategy(strategy);
    if (history_log != 0) {
      trellis::MapSettings settings;
      settings.set_history_log_id(history_log);
      request.mutable_tree()->mutable_storage_settings()->PackFrom(settings);
    }
    auto tree = tree_manager_->CreateTree(request);
    EXPECT_TRUE(tree.ok()) << tree.status();
    return *tree;
  }

  static RepeatedPtrField<trillian::MapLeaf> Leaves(int from, int to,
                                                    const std::string& tag) {
    RepeatedPtrField<trillian::MapLeaf> leaves;
    for (int i = from; i < to; ++i) {
      trillian::MapLeaf* leaf = leaves.Add();
      leaf->set_index(Index(i));
      leaf->set_leaf_value(tag + std::to_string(i));
      leaf->set_extra_data("extra");
    }
    return leaves;
  }

  // Reads `indices` at `revision` and checks every proof against the signed
  // root (whose signature is checked too); returns the leaves.
  std::vector<trillian::MapLeaf> ReadVerified(const trillian::Tree& tree,
                                              int64_t revision,
                                              const std::vector<int>& numbers) {
    RepeatedPtrField<std::string> indices;
    for (int n : numbers) *indices.Add() = Index(n);
    auto leaves = manager_->GetLeaves(tree.tree_id(), revision, indices, true);
    EXPECT_TRUE(leaves.ok()) << leaves.status();
    if (!leaves.ok()) return {};
    EXPECT_TRUE(crypto::VerifySignature(tree.public_key().der(),
                                        leaves->root.map_root(),
                                        leaves->root.signature())
                    .ok());
    auto root = ParseMapRoot(leaves->root.map_root());
    EXPECT_TRUE(root.ok());
    if (revision >= 0) {
      EXPECT_EQ(root->revision, static_cast<uint64_t>(revision));
    }
    auto hasher = NewMapHasher(tree.hash_strategy());
    std::vector<trillian::MapLeaf> out;
    for (const auto& inclusion : leaves->inclusions) {
      std::vector<std::string> proof(inclusion.inclusion().begin(),
                                     inclusion.inclusion().end());
      EXPECT_TRUE(VerifyMapInclusion(**hasher, tree.tree_id(), inclusion.leaf(),
                                     proof, root->root_hash)
                      .ok());
      out.push_back(inclusion.leaf());
    }
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksTreeStorage> trees_;
  std::unique_ptr<storage::rocksdb::RocksLogStorage> logs_;
  std::unique_ptr<storage::rocksdb::RocksMapStorage> maps_;
  std::unique_ptr<admin::KeyStore> keys_;
  std::unique_ptr<admin::TreeManager> tree_manager_;
  log::SignerProvider signers_;
  std::unique_ptr<log::LogManager> log_manager_;
  std::unique_ptr<MapManager> manager_;
};

TEST_F(MapManagerTest, RevisionsProofsAndOldRevisions) {
  for (trillian::HashStrategy strategy :
       {trillian::CONIKS_SHA512_256, trillian::CONIKS_SHA256,
        trillian::TEST_MAP_HASHER}) {
    const trillian::Tree tree = CreateTree(trillian::MAP, strategy);
    const int64_t id = tree.tree_id();
    EXPECT_EQ(manager_->Write(id, Leaves(0, 1, "v"), "", 0).status().code(),
              absl::StatusCode::kFailedPrecondition);  // Not initialised.
    auto created = manager_->Init(id);
    ASSERT_TRUE(created.ok()) << created.status();
    EXPECT_EQ(ParseMapRoot(created->map_root())->revision, 0u);
    EXPECT_EQ(manager_->Init(id).status().code(),
              absl::StatusCode::kAlreadyExists);

    // Revision 1: leaves 0..99; revision 2: 100..199 and 0..9 again; 3: empty.
    ASSERT_TRUE(manager_->Write(id, Leaves(0, 100, "a"), "meta-1", 1).ok());
    RepeatedPtrField<trillian::MapLeaf> second = Leaves(100, 200, "b");
    second.MergeFrom(Leaves(0, 10, "b"));
    auto r2 = manager_->Write(id, second, "meta-2", 0);
    ASSERT_TRUE(r2.ok()) << r2.status();
    EXPECT_EQ(ParseMapRoot(r2->map_root())->metadata, "meta-2");
    ASSERT_TRUE(manager_->Write(id, {}, "", 3).ok());

    auto at0 = ReadVerified(tree, 0, {0, 150});
    EXPECT_TRUE(at0[0].leaf_value().empty() && at0[0].leaf_hash().empty());
    auto at1 = ReadVerified(tree, 1, {0, 50, 150});
    EXPECT_EQ(at1[0].leaf_value(), "a0");
    EXPECT_EQ(at1[1].leaf_value(), "a50");
    EXPECT_TRUE(at1[2].leaf_value().empty());  // Absent at revision 1.
    auto at2 = ReadVerified(tree, 2, {0, 50, 150, 999});
    EXPECT_EQ(at2[0].leaf_value(), "b0");
    EXPECT_EQ(at2[0].extra_data(), "extra");
    EXPECT_EQ(at2[1].leaf_value(), "a50");
    EXPECT_EQ(at2[2].leaf_value(), "b150");
    EXPECT_TRUE(at2[3].leaf_hash().empty());
    auto latest = ReadVerified(tree, -1, {0});
    EXPECT_EQ(latest[0].leaf_value(), "b0");
    // Revision 3 changed no leaf: same root hash as revision 2.
    EXPECT_EQ(ParseMapRoot(manager_->Root(id, 3)->map_root())->root_hash,
              ParseMapRoot(manager_->Root(id, 2)->map_root())->root_hash);
  }
}

TEST_F(MapManagerTest, BadInputChangesNothing) {
  const trillian::Tree tree = CreateTree(trillian::MAP);
  const int64_t id = tree.tree_id();
  ASSERT_TRUE(manager_->Init(id).ok());
  ASSERT_TRUE(manager_->Write(id, Leaves(0, 10, "v"), "", 0).ok());
  const std::string before = manager_->Root(id, -1)->map_root();

  RepeatedPtrField<trillian::MapLeaf> short_index = Leaves(20, 21, "v");
  short_index[0].set_index("short");
  EXPECT_EQ(manager_->Write(id, short_index, "", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  RepeatedPtrField<trillian::MapLeaf> duplicate = Leaves(20, 22, "v");
  duplicate[1].set_index(duplicate[0].index());
  EXPECT_EQ(manager_->Write(id, duplicate, "", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Write(id, Leaves(20, 21, "v"), "", 1).status().code(),
            absl::StatusCode::kFailedPrecondition);  // Revision 1 exists.
  EXPECT_EQ(manager_->Write(id, Leaves(20, 21, "v"), "", 5).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(manager_->Write(id + 1, Leaves(20, 21, "v"), "", 0).status().code(),
            absl::StatusCode::kNotFound);
  const trillian::Tree log_tree = CreateTree(trillian::LOG);
  EXPECT_EQ(manager_->Write(log_tree.tree_id(), Leaves(20, 21, "v"), "", 0)
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Init(log_tree.tree_id()).status().code(),
            absl::StatusCode::kInvalidArgument);
  RepeatedPtrField<std::string> indices;
  *indices.Add() = Index(1);
  EXPECT_EQ(manager_->GetLeaves(id, 7, indices, true).status().code(),
            absl::StatusCode::kNotFound);  // Beyond the latest revision.
  *indices.Add() = "short";
  EXPECT_EQ(manager_->GetLeaves(id, 1, indices, true).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Root(id, 2).status().code(), absl::StatusCode::kNotFound);

  EXPECT_EQ(manager_->Root(id, -1)->map_root(), before);
  ReadVerified(tree, 1, {0, 9});
}

TEST_F(MapManagerTest, RestartKeepsEveryRevision) {
  const trillian::Tree tree = CreateTree(trillian::MAP);
  const int64_t id = tree.tree_id();
  ASSERT_TRUE(manager_->Init(id).ok());
  std::vector<std::string> roots = {manager_->Root(id, 0)->map_root()};
  for (int r = 1; r <= 5; ++r) {
    auto root = manager_->Write(
        id, Leaves(r * 10, r * 10 + 30, "r" + std::to_string(r)), "", 0);
    ASSERT_TRUE(root.ok());
    roots.push_back(root->map_root());
  }
  Open();
  for (int r = 0; r <= 5; ++r) {
    EXPECT_EQ(manager_->Root(id, r)->map_root(), roots[r]);
  }
  // Revision r set leaves [10r, 10r + 30).
  auto at3 = ReadVerified(tree, 3, {10, 35, 65});
  EXPECT_EQ(at3[0].leaf_value(),
            "r1"
            "10");
  EXPECT_EQ(at3[1].leaf_value(),
            "r3"
            "35");
  EXPECT_TRUE(at3[2].leaf_value().empty());
  ASSERT_TRUE(manager_->Write(id, Leaves(0, 5, "after"), "", 6).ok());
  auto at6 = ReadVerified(tree, 6, {0, 65});
  EXPECT_EQ(at6[0].leaf_value(), "after0");
  EXPECT_EQ(at6[1].leaf_value(),
            "r5"
            "65");
}

TEST_F(MapManagerTest, LastInRange) {
  const trillian::Tree tree = CreateTree(trillian::MAP);
  const int64_t id = tree.tree_id();
  ASSERT_TRUE(manager_->Init(id).ok());
  RepeatedPtrField<trillian::MapLeaf> leaves;
  for (const char* hex : {"\x10\x01", "\x10\x80", "\x10\xff", "\x11\x00"}) {
    trillian::MapLeaf* leaf = leaves.Add();
    leaf->set_index(std::string(hex, 2) + std::string(30, '\x07'));
    leaf->set_leaf_value(std::string(hex, 2));
  }
  ASSERT_TRUE(manager_->Write(id, leaves, "", 1).ok());
  RepeatedPtrField<trillian::MapLeaf> later;
  later.Add()->set_index(std::string("\x10\xfe", 2) + std::string(30, '\xff'));
  later[0].set_leaf_value("later");
  ASSERT_TRUE(manager_->Write(id, later, "", 2).ok());

  auto last = manager_->LastInRange(id, 1, std::string("\x10", 1), 8);
  ASSERT_TRUE(last.ok()) << last.status();
  EXPECT_EQ(last->leaf_value(), std::string("\x10\xff", 2));
  last = manager_->LastInRange(id, 1, std::string("\x10\x00", 2), 9);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->leaf_value(), std::string("\x10\x01", 2));
  // At revision 2 a leaf under 0x10fe exists, but 0x10ff is still last.
  last = manager_->LastInRange(id, 2, std::string("\x10\xfe", 2), 15);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->leaf_value(), std::string("\x10\xff", 2));
  last = manager_->LastInRange(id, 2, std::string("\x10\xfe", 2), 16);
  ASSERT_TRUE(last.ok());
  EXPECT_EQ(last->leaf_value(), "later");
  EXPECT_EQ(manager_->LastInRange(id, 1, std::string("\x10\xfe", 2), 16)
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      manager_->LastInRange(id, 1, std::string("\x20", 1), 8).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(manager_->LastInRange(id, 1, "", 9).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(MapManagerTest, SignedRootsGoToTheHistoryLog) {
  const trillian::Tree log_tree = CreateTree(trillian::LOG);
  ASSERT_TRUE(log_manager_->Init(log_tree.tree_id()).ok());
  const trillian::Tree map_tree = CreateTree(
      trillian::MAP, trillian::UNKNOWN_HASH_STRATEGY, log_tree.tree_id());
  const int64_t id = map_tree.tree_id();
  std::vector<std::string> roots;
  roots.push_back(manager_->Init(id)->SerializeAsString());
  for (int r = 1; r <= 3; ++r) {
    roots.push_back(
        manager_->Write(id, Leaves(r, r + 5, "h"), "", 0)->SerializeAsString());
  }
  log::Sequencer sequencer(logs_.get(), signers_, 100);
  ASSERT_TRUE(sequencer.IntegrateBatch(log_tree, absl::Now()).ok());
  auto leaves = logs_->GetLeavesByRange(log_tree.tree_id(), 0, 100, 100);
  ASSERT_TRUE(leaves.ok());
  ASSERT_EQ(leaves->size(), roots.size());  // Each root once, in order.
  for (size_t i = 0; i < roots.size(); ++i) {
    EXPECT_EQ((*leaves)[i].leaf_value(), roots[i]);
  }
  // A history log that is not a LOG tree is refused up front.
  trillian::CreateTreeRequest bad;
  bad.mutable_tree()->set_tree_type(trillian::MAP);
  trellis::MapSettings settings;
  settings.set_history_log_id(id);
  bad.mutable_tree()->mutable_storage_settings()->PackFrom(settings);
  EXPECT_EQ(tree_manager_->CreateTree(bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A revision's history entry is written with it and waits in the outbox
// while the log cannot take it; it reaches the log, in order, once the log
// can (on the next write, or at start-up through DrainAllHistory).
TEST_F(MapManagerTest, HistoryEntriesWaitInTheOutboxUntilTheLogTakesThem) {
  const trillian::Tree log_tree = CreateTree(trillian::LOG);
  ASSERT_TRUE(log_manager_->Init(log_tree.tree_id()).ok());
  const trillian::Tree map_tree = CreateTree(
      trillian::MAP, trillian::UNKNOWN_HASH_STRATEGY, log_tree.tree_id());
  const int64_t id = map_tree.tree_id();
  auto set_state = [&](trillian::TreeState state) {
    trillian::UpdateTreeRequest update;
    update.mutable_tree()->set_tree_id(log_tree.tree_id());
    update.mutable_tree()->set_tree_state(state);
    update.mutable_update_mask()->add_paths("tree_state");
    ASSERT_TRUE(tree_manager_->UpdateTree(update).ok());
  };
  std::vector<std::string> roots;
  roots.push_back(manager_->Init(id)->SerializeAsString());
  set_state(trillian::FROZEN);  // The log refuses new leaves.
  for (int r = 1; r <= 2; ++r) {
    absl::StatusOr<trillian::SignedMapRoot> root =
        manager_->Write(id, Leaves(r, r + 5, "o"), "", 0);
    ASSERT_TRUE(root.ok()) << root.status();  // The map goes on.
    roots.push_back(root->SerializeAsString());
  }
  EXPECT_EQ(maps_->Outbox(id)->size(), 2u);
  EXPECT_FALSE(manager_->DrainAllHistory().ok());
  set_state(trillian::ACTIVE);
  ASSERT_TRUE(manager_->DrainAllHistory().ok());  // As at start-up.
  EXPECT_TRUE(maps_->Outbox(id)->empty());
  roots.push_back(
      manager_->Write(id, Leaves(3, 8, "o"), "", 0)->SerializeAsString());
  EXPECT_TRUE(maps_->Outbox(id)->empty());

  log::Sequencer sequencer(logs_.get(), signers_, 100);
  ASSERT_TRUE(sequencer.IntegrateBatch(log_tree, absl::Now()).ok());
  auto leaves = logs_->GetLeavesByRange(log_tree.tree_id(), 0, 100, 100);
  ASSERT_TRUE(leaves.ok());
  ASSERT_EQ(leaves->size(), roots.size());  // Each root once, in order.
  for (size_t i = 0; i < roots.size(); ++i) {
    EXPECT_EQ((*leaves)[i].leaf_value(), roots[i]) << i;
  }
}

}  // namespace
}  // namespace trellis::map
