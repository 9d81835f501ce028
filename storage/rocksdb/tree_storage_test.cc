#include "storage/rocksdb/tree_storage.h"

#include "gtest/gtest.h"
#include "util/test_util.h"

namespace trellis::storage::rocksdb {
namespace {

trillian::Tree MakeTree(int64_t id) {
  trillian::Tree tree;
  tree.set_tree_id(id);
  tree.set_tree_type(trillian::LOG);
  tree.set_tree_state(trillian::ACTIVE);
  tree.set_display_name("tree " + std::to_string(id));
  return tree;
}

TEST(RocksTreeStorageTest, CreateGetListUpdateSurviveReopen) {
  testing::TempDir dir;
  {
    auto db = Database::Open({dir.path()});
    ASSERT_TRUE(db.ok()) << db.status();
    RocksTreeStorage trees(db->get());
    ASSERT_TRUE(trees.CreateTree(MakeTree(7), "key7", "note7").ok());
    ASSERT_TRUE(trees.CreateTree(MakeTree(3), "key3", "").ok());
    EXPECT_EQ(trees.CreateTree(MakeTree(7), "other", "").code(),
              absl::StatusCode::kAlreadyExists);
    auto deleted = trees.UpdateTree(3, [](trillian::Tree& tree) {
      tree.set_deleted(true);
      return absl::OkStatus();
    });
    ASSERT_TRUE(deleted.ok());
    EXPECT_TRUE(deleted->deleted());
    // A failing mutation changes nothing.
    EXPECT_EQ(trees
                  .UpdateTree(7,
                              [](trillian::Tree& tree) {
                                tree.set_display_name("changed");
                                return absl::FailedPreconditionError("no");
                              })
                  .status()
                  .code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(
        trees.UpdateTree(99, [](trillian::Tree&) { return absl::OkStatus(); })
            .status()
            .code(),
        absl::StatusCode::kNotFound);
  }
  auto db = Database::Open({dir.path()});
  ASSERT_TRUE(db.ok());
  RocksTreeStorage trees(db->get());
  auto tree = trees.GetTree(7);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->display_name(), "tree 7");
  EXPECT_EQ(*trees.GetWrappedPrivateKey(7), "key7");
  EXPECT_EQ(*trees.GetWrappedNoteKey(7), "note7");
  EXPECT_EQ(trees.GetWrappedNoteKey(3).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(trees.GetTree(8).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(trees.ListTrees(false)->size(), 1u);
  auto all = trees.ListTrees(true);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].tree_id(), 3);
  EXPECT_TRUE((*all)[0].deleted());
}

TEST(RocksTreeStorageTest, NoteKeysAreAddedOnceWithTheTreeChange) {
  testing::TempDir dir;
  auto db = Database::Open({dir.path()});
  ASSERT_TRUE(db.ok()) << db.status();
  RocksTreeStorage trees(db->get());
  ASSERT_TRUE(trees.CreateTree(MakeTree(1), "key1", "").ok());
  EXPECT_EQ(trees.GetWrappedNoteKey(1).status().code(),
            absl::StatusCode::kNotFound);
  auto rename = [](trillian::Tree& tree) {
    tree.set_display_name("with note key");
    return absl::OkStatus();
  };
  // A failing change stores no key either.
  EXPECT_EQ(
      trees
          .AddNoteKey(1, "note1",
                      [](trillian::Tree&) { return absl::InternalError("no"); })
          .status()
          .code(),
      absl::StatusCode::kInternal);
  EXPECT_EQ(trees.GetWrappedNoteKey(1).status().code(),
            absl::StatusCode::kNotFound);
  auto added = trees.AddNoteKey(1, "note1", rename);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->display_name(), "with note key");
  EXPECT_EQ(*trees.GetWrappedNoteKey(1), "note1");
  EXPECT_EQ(trees.AddNoteKey(1, "other", rename).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*trees.GetWrappedNoteKey(1), "note1");
  EXPECT_EQ(trees.AddNoteKey(2, "note2", rename).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace trellis::storage::rocksdb
