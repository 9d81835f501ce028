// Acknowledged writes survive a power loss. SIGKILL keeps the page cache, so
// a crash test would pass with unsynced acknowledgements too; here RocksDB
// runs on a file system that drops everything not fsynced when the test cuts
// the power (storage/rocksdb/testing/power_loss_fs.h). Writers queue log
// leaves and write map revisions while the sequencer integrates; after the
// cut and a restart every acknowledged leaf is in the log exactly once,
// every acknowledged map revision is there with the root it was
// acknowledged with, the log's new root extends the last one served, and
// the last C2SP checkpoint served is still published and describes tiles
// that survived (the log's recovered tree extends it).
// The same run with unsynced acknowledgements must lose some: that negative
// run shows the test can fail.
#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "admin/key_store.h"
#include "admin/tree_manager.h"
#include "gtest/gtest.h"
#include "log/checkpoint_publisher.h"
#include "log/log_service.h"
#include "log/sequencer.h"
#include "map/map_manager.h"
#include "map/map_root.h"
#include "merkle/log_root.h"
#include "merkle/verifier.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/map_storage.h"
#include "storage/rocksdb/testing/power_loss_fs.h"
#include "storage/rocksdb/tree_storage.h"
#include "tlog/checkpoint.h"
#include "tlog/note.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

// Trellis' storage and write path, in process.
struct Stack {
  Stack(const std::string& path, ::rocksdb::Env* env, bool sync_writes) {
    storage::rocksdb::DatabaseOptions options;
    options.path = path;
    options.env = env;
    options.sync_writes = sync_writes;
    options.block_cache_bytes = 8 << 20;
    db = std::move(*storage::rocksdb::Database::Open(options));
    trees = std::make_unique<storage::rocksdb::RocksTreeStorage>(db.get());
    logs = std::make_unique<storage::rocksdb::RocksLogStorage>(db.get());
    maps = std::make_unique<storage::rocksdb::RocksMapStorage>(db.get());
    keys = std::make_unique<admin::KeyStore>(trees.get(), "");
    tree_manager = std::make_unique<admin::TreeManager>(trees.get(), logs.get(),
                                                        keys.get());
    log::SignerProvider signers = [this](int64_t id) {
      return keys->SignerFor(id);
    };
    log_manager =
        std::make_unique<log::LogManager>(trees.get(), logs.get(), signers);
    log_service = std::make_unique<log::LogService>(log_manager.get());
    sequencer = std::make_unique<log::Sequencer>(logs.get(), signers, 500);
    checkpoints = std::make_unique<log::CheckpointPublisher>(
        trees.get(), logs.get(),
        [this](int64_t id) { return keys->NoteSignerFor(id); },
        absl::Seconds(1));
    map_manager = std::make_unique<map::MapManager>(trees.get(), maps.get(),
                                                    log_manager.get(), signers);
  }

  // Integrates one batch of `log_id`'s queue; how many leaves it took.
  absl::StatusOr<size_t> SequenceBatch(int64_t log_id) {
    absl::StatusOr<trillian::Tree> tree = trees->GetTree(log_id);
    if (!tree.ok()) return tree.status();
    return sequencer->IntegrateBatch(*tree, absl::Now());
  }

  // Integrates every queued leaf of `log_id`.
  absl::Status SequenceAll(int64_t log_id) {
    for (;;) {
      absl::StatusOr<size_t> n = SequenceBatch(log_id);
      if (!n.ok()) return n.status();
      if (*n == 0) return absl::OkStatus();
    }
  }

  absl::StatusOr<merkle::LogRootV1> LatestRoot(int64_t log_id) {
    trillian::GetLatestSignedLogRootRequest request;
    request.set_log_id(log_id);
    trillian::GetLatestSignedLogRootResponse response;
    grpc::Status s = log_service->GetLatestSignedLogRoot(&request, &response);
    if (!s.ok()) return absl::UnavailableError(s.error_message());
    return merkle::ParseLogRoot(response.signed_log_root().log_root());
  }

  std::unique_ptr<storage::rocksdb::Database> db;
  std::unique_ptr<storage::rocksdb::RocksTreeStorage> trees;
  std::unique_ptr<storage::rocksdb::RocksLogStorage> logs;
  std::unique_ptr<storage::rocksdb::RocksMapStorage> maps;
  std::unique_ptr<admin::KeyStore> keys;
  std::unique_ptr<admin::TreeManager> tree_manager;
  std::unique_ptr<log::LogManager> log_manager;
  std::unique_ptr<log::LogService> log_service;
  std::unique_ptr<log::Sequencer> sequencer;
  std::unique_ptr<log::CheckpointPublisher> checkpoints;
  std::unique_ptr<map::MapManager> map_manager;
};

std::string MapIndex(int n) {
  std::string index(32, '\0');
  for (int i = 0; i < 4; ++i) index[i] = static_cast<char>(n >> (8 * (3 - i)));
  return index;
}

struct Outcome {
  size_t acked_leaves = 0;
  size_t lost_leaves = 0;
  size_t duplicated_leaves = 0;
  int64_t acked_revisions = 0;
  int64_t lost_revisions = 0;
  bool log_consistent = false;
  size_t checkpoints_served = 0;
  // The stored checkpoint is at least the last one served, and the
  // recovered tree extends it.
  bool checkpoint_kept = false;
  bool checkpoint_consistent = false;
};

// OK if the tree `after` recovered extends `checkpoint_note`'s tree.
absl::Status ExtendsCheckpoint(log::LogService& service, int64_t log_id,
                               const merkle::LogRootV1& root,
                               const std::string& checkpoint_note) {
  absl::StatusOr<tlog::Note> note = tlog::ParseNote(checkpoint_note);
  if (!note.ok()) return note.status();
  absl::StatusOr<tlog::Checkpoint> checkpoint =
      tlog::ParseCheckpoint(note->text);
  if (!checkpoint.ok()) return checkpoint.status();
  if (checkpoint->size == 0) return absl::OkStatus();
  trillian::GetConsistencyProofRequest request;
  request.set_log_id(log_id);
  request.set_first_tree_size(checkpoint->size);
  request.set_second_tree_size(root.tree_size);
  trillian::GetConsistencyProofResponse response;
  grpc::Status s = service.GetConsistencyProof(&request, &response);
  if (!s.ok()) return absl::UnavailableError(s.error_message());
  std::vector<std::string> proof(response.proof().hashes().begin(),
                                 response.proof().hashes().end());
  return merkle::VerifyConsistency(checkpoint->size, root.tree_size,
                                   checkpoint->root_hash, root.root_hash,
                                   proof);
}

// Creates a log and a map (durably), then loads them through a power-loss
// file system whose power is cut mid-load; restarts and counts.
Outcome LoadCutAndRecover(bool sync_writes) {
  TempDir dir;
  const std::string path = dir.path() + "/db";
  int64_t log_id = 0;
  int64_t map_id = 0;
  {
    Stack setup(path, nullptr, /*sync_writes=*/true);
    trillian::CreateTreeRequest create;
    create.mutable_tree()->set_tree_type(trillian::LOG);
    log_id = setup.tree_manager->CreateTree(create)->tree_id();
    trillian::InitLogRequest init;
    init.set_log_id(log_id);
    trillian::InitLogResponse init_response;
    EXPECT_TRUE(setup.log_service->InitLog(&init, &init_response).ok());
    create.mutable_tree()->set_tree_type(trillian::MAP);
    map_id = setup.tree_manager->CreateTree(create)->tree_id();
    EXPECT_TRUE(setup.map_manager->Init(map_id).ok());
  }

  // The model alone decides what survives; real fsyncs would only be slow.
  PowerLossFileSystem::Options fs_options;
  fs_options.forward_syncs = false;
  auto fs =
      PowerLossFileSystem::Create(::rocksdb::FileSystem::Default(), fs_options);
  std::unique_ptr<::rocksdb::Env> env = fs->NewEnv();
  absl::Mutex mu;
  std::set<std::string> acked;                  // Leaf values.
  std::map<int64_t, std::string> acked_roots;   // Map revision -> map_root.
  merkle::LogRootV1 served;                     // Last root a client saw.
  storage::StoredCheckpoint served_checkpoint;  // Last checkpoint served.
  size_t checkpoints_served = 0;
  {
    Stack stack(path, env.get(), sync_writes);
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w) {
      threads.emplace_back([&, w] {
        for (int batch = 0; !stop; ++batch) {
          trillian::QueueLeavesRequest request;
          request.set_log_id(log_id);
          for (int i = 0; i < 50; ++i) {
            request.add_leaves()->set_leaf_value(
                absl::StrCat("w", w, "-b", batch, "-", i));
          }
          trillian::QueueLeavesResponse response;
          if (!stack.log_service->QueueLeaves(&request, &response).ok()) return;
          absl::MutexLock lock(&mu);
          for (const auto& leaf : request.leaves())
            acked.insert(leaf.leaf_value());
        }
      });
    }
    // One batch per round, so that roots are served while writers outpace
    // the sequencer (draining the queue first may never end).
    threads.emplace_back([&] {
      while (!stop && stack.SequenceBatch(log_id).ok()) {
        absl::StatusOr<merkle::LogRootV1> root = stack.LatestRoot(log_id);
        if (!root.ok()) return;
        absl::StatusOr<storage::StoredCheckpoint> checkpoint =
            stack.checkpoints->Publish(log_id);
        absl::MutexLock lock(&mu);
        served = *root;
        if (checkpoint.ok()) {
          served_checkpoint = *checkpoint;
          ++checkpoints_served;
        }
      }
    });
    threads.emplace_back([&] {
      for (int revision = 1; !stop; ++revision) {
        google::protobuf::RepeatedPtrField<trillian::MapLeaf> leaves;
        for (int i = 0; i < 20; ++i) {
          trillian::MapLeaf* leaf = leaves.Add();
          leaf->set_index(MapIndex(revision * 100 + i));
          leaf->set_leaf_value(absl::StrCat("r", revision, "-", i));
        }
        absl::StatusOr<trillian::SignedMapRoot> root =
            stack.map_manager->Write(map_id, leaves, "", revision);
        if (!root.ok()) return;
        absl::MutexLock lock(&mu);
        acked_roots[revision] = root->map_root();
      }
    });
    // Cut once there is something to lose (a condition, not a sleep).
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    while (absl::Now() < deadline) {
      {
        absl::MutexLock lock(&mu);
        if (acked.size() >= 4000 && acked_roots.size() >= 10 &&
            served.tree_size >= 1000) {
          break;
        }
      }
      absl::SleepFor(absl::Milliseconds(5));
    }
    fs->CutPower();
    stop = true;
    for (std::thread& t : threads) t.join();
  }
  EXPECT_TRUE(fs->ApplyPowerLoss().ok());

  Outcome outcome;
  outcome.acked_leaves = acked.size();
  outcome.acked_revisions = static_cast<int64_t>(acked_roots.size());
  Stack after(path, nullptr, /*sync_writes=*/true);
  EXPECT_TRUE(after.SequenceAll(log_id).ok());
  absl::StatusOr<merkle::LogRootV1> root = after.LatestRoot(log_id);
  EXPECT_TRUE(root.ok());
  if (!root.ok()) return outcome;
  std::map<std::string, int> seen;
  for (uint64_t start = 0; start < root->tree_size; start += 1000) {
    trillian::GetLeavesByRangeRequest request;
    request.set_log_id(log_id);
    request.set_start_index(start);
    request.set_count(1000);
    trillian::GetLeavesByRangeResponse response;
    EXPECT_TRUE(after.log_service->GetLeavesByRange(&request, &response).ok());
    for (const auto& leaf : response.leaves()) ++seen[leaf.leaf_value()];
  }
  for (const std::string& value : acked) {
    auto it = seen.find(value);
    if (it == seen.end()) ++outcome.lost_leaves;
  }
  for (const auto& [value, count] : seen) {
    if (count > 1) ++outcome.duplicated_leaves;
  }
  if (root->tree_size >= served.tree_size) {
    trillian::GetConsistencyProofRequest request;
    request.set_log_id(log_id);
    request.set_first_tree_size(served.tree_size);
    request.set_second_tree_size(root->tree_size);
    trillian::GetConsistencyProofResponse response;
    if (after.log_service->GetConsistencyProof(&request, &response).ok()) {
      std::vector<std::string> proof(response.proof().hashes().begin(),
                                     response.proof().hashes().end());
      outcome.log_consistent =
          merkle::VerifyConsistency(served.tree_size, root->tree_size,
                                    served.root_hash, root->root_hash, proof)
              .ok();
    }
  }
  outcome.checkpoints_served = checkpoints_served;
  absl::StatusOr<std::optional<storage::StoredCheckpoint>> stored_checkpoint =
      after.logs->LatestCheckpoint(log_id);
  if (stored_checkpoint.ok() && stored_checkpoint->has_value()) {
    outcome.checkpoint_kept =
        (*stored_checkpoint)->size >= served_checkpoint.size;
    absl::Status extends = ExtendsCheckpoint(*after.log_service, log_id, *root,
                                             (*stored_checkpoint)->note);
    EXPECT_TRUE(extends.ok()) << extends;
    outcome.checkpoint_consistent = extends.ok();
  }
  for (const auto& [revision, map_root] : acked_roots) {
    absl::StatusOr<trillian::SignedMapRoot> stored =
        after.map_manager->Root(map_id, revision);
    if (!stored.ok() || stored->map_root() != map_root) {
      ++outcome.lost_revisions;
    }
  }
  return outcome;
}

TEST(PowerLossTest, AcknowledgedWritesSurviveAPowerCut) {
  const Outcome o = LoadCutAndRecover(/*sync_writes=*/true);
  std::printf("synced: %zu leaves and %lld map revisions acknowledged\n",
              o.acked_leaves, static_cast<long long>(o.acked_revisions));
  EXPECT_GE(o.acked_leaves, 4000u);
  EXPECT_EQ(o.lost_leaves, 0u);
  EXPECT_EQ(o.duplicated_leaves, 0u);
  EXPECT_TRUE(o.log_consistent);
  EXPECT_GE(o.acked_revisions, 10);
  EXPECT_EQ(o.lost_revisions, 0);
  EXPECT_GT(o.checkpoints_served, 0u);
  EXPECT_TRUE(o.checkpoint_kept);
  EXPECT_TRUE(o.checkpoint_consistent);
}

// The negative run: acknowledging before the WAL is synced must show up as
// lost acknowledged writes, or this test could not catch the bug.
TEST(PowerLossTest, UnsyncedAcknowledgementsAreCaught) {
  const Outcome o = LoadCutAndRecover(/*sync_writes=*/false);
  std::printf("unsynced: lost %zu of %zu leaves, %lld of %lld revisions\n",
              o.lost_leaves, o.acked_leaves,
              static_cast<long long>(o.lost_revisions),
              static_cast<long long>(o.acked_revisions));
  EXPECT_GT(o.lost_leaves + o.lost_revisions, 0u);
}

}  // namespace
}  // namespace trellis::testing
