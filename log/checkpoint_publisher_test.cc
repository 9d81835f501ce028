#include "log/checkpoint_publisher.h"

#include <atomic>

#include "admin/key_store.h"
#include "admin/tree_manager.h"
#include "gtest/gtest.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/tree_storage.h"
#include "tlog/checkpoint.h"
#include "util/test_util.h"

namespace trellis::log {
namespace {

trillian::SignedLogRoot Root(uint64_t size, const std::string& hash) {
  merkle::LogRootV1 root;
  root.tree_size = size;
  root.root_hash = hash;
  trillian::SignedLogRoot signed_root;
  signed_root.set_log_root(*merkle::SerializeLogRoot(root));
  return signed_root;
}

class CheckpointPublisherTest : public ::testing::Test {
 protected:
  CheckpointPublisherTest()
      : db_(*storage::rocksdb::Database::Open({dir_.path()})),
        trees_(db_.get()),
        logs_(db_.get()),
        keys_(&trees_, ""),
        manager_(&trees_, &logs_, &keys_) {
    trillian::CreateTreeRequest create;
    create.mutable_tree()->set_tree_type(trillian::LOG);
    log_id_ = manager_.CreateTree(create)->tree_id();
  }

  // Counts signer look-ups; fails them when `fail` is set.
  NoteSignerProvider Signers(std::atomic<int>* calls, bool fail = false) {
    return [this, calls, fail](int64_t id)
               -> absl::StatusOr<std::shared_ptr<const tlog::NoteSigner>> {
      ++*calls;
      if (fail) return absl::UnavailableError("no key today");
      return keys_.NoteSignerFor(id);
    };
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  storage::rocksdb::RocksTreeStorage trees_;
  storage::rocksdb::RocksLogStorage logs_;
  admin::KeyStore keys_;
  admin::TreeManager manager_;
  int64_t log_id_ = 0;
};

TEST_F(CheckpointPublisherTest, PublishesEachSizeOnceAndServesItAfterRestart) {
  std::atomic<int> calls{0};
  CheckpointPublisher publisher(&trees_, &logs_, Signers(&calls),
                                absl::Seconds(1));
  EXPECT_EQ(publisher.Publish(log_id_).status().code(),
            absl::StatusCode::kNotFound);  // Not initialised.
  EXPECT_EQ(publisher.Latest(log_id_).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(logs_.InitRoot(log_id_, Root(0, merkle::EmptyRoot())).ok());

  auto first = publisher.Publish(log_id_);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->size, 0u);
  auto note = tlog::ParseNote(first->note);
  ASSERT_TRUE(note.ok());
  auto checkpoint = tlog::ParseCheckpoint(note->text);
  ASSERT_TRUE(checkpoint.ok());
  EXPECT_EQ(checkpoint->root_hash, merkle::EmptyRoot());
  trellis::LogSettings settings;
  ASSERT_TRUE(trees_.GetTree(log_id_)->storage_settings().UnpackTo(&settings));
  EXPECT_EQ(checkpoint->origin, settings.origin());
  auto vkey = tlog::ParseVerifierKey(settings.note_verifier_key());
  EXPECT_TRUE(tlog::VerifyNote(*note, {*vkey}).ok());
  EXPECT_EQ(calls, 1);
  // The same root again: nothing signed.
  ASSERT_TRUE(publisher.Publish(log_id_).ok());
  EXPECT_EQ(calls, 1);

  // A new process without its key still serves what was stored.
  std::atomic<int> failing_calls{0};
  CheckpointPublisher restarted(&trees_, &logs_,
                                Signers(&failing_calls, /*fail=*/true),
                                absl::Seconds(1));
  auto served = restarted.Latest(log_id_);
  ASSERT_TRUE(served.ok()) << served.status();
  EXPECT_EQ((*served)->note, first->note);
  EXPECT_TRUE(restarted.Publish(log_id_).ok());  // Same size: no signing.
  EXPECT_EQ(failing_calls, 0);

  // Storage never goes back to a smaller checkpoint.
  EXPECT_TRUE(logs_.PutCheckpoint(log_id_, {5, "note for 5"}).ok());
  EXPECT_EQ(logs_.PutCheckpoint(log_id_, {4, "note for 4"}).code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace trellis::log
