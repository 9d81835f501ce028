// The TrillianLog service against real RocksDB storage, real keys and the
// real sequencer, called in-process.
#include "log/log_service.h"

#include "absl/time/clock.h"
#include "admin/key_store.h"
#include "admin/tree_manager.h"
#include "crypto/signer.h"
#include "gtest/gtest.h"
#include "log/sequencer.h"
#include "merkle/hasher.h"
#include "merkle/verifier.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/tree_storage.h"
#include "util/test_util.h"

namespace trellis::log {
namespace {

using grpc::StatusCode;

class LogServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }

  void Open() {
    service_.reset();
    log_manager_.reset();
    sequencer_.reset();
    manager_.reset();
    keys_.reset();
    logs_.reset();
    trees_.reset();
    db_.reset();
    db_ = std::move(*storage::rocksdb::Database::Open({dir_.path()}));
    trees_ = std::make_unique<storage::rocksdb::RocksTreeStorage>(db_.get());
    logs_ = std::make_unique<storage::rocksdb::RocksLogStorage>(db_.get());
    keys_ = std::make_unique<admin::KeyStore>(trees_.get(), "");
    manager_ = std::make_unique<admin::TreeManager>(trees_.get(), logs_.get(),
                                                    keys_.get());
    SignerProvider signers = [this](int64_t id) {
      return keys_->SignerFor(id);
    };
    sequencer_ = std::make_unique<Sequencer>(logs_.get(), signers, 1000);
    log_manager_ =
        std::make_unique<LogManager>(trees_.get(), logs_.get(), signers);
    service_ = std::make_unique<LogService>(log_manager_.get());
  }

  int64_t CreateTree(trillian::TreeType type, bool init = true) {
    trillian::CreateTreeRequest request;
    request.mutable_tree()->set_tree_type(type);
    auto tree = manager_->CreateTree(request);
    EXPECT_TRUE(tree.ok()) << tree.status();
    if (init) {
      trillian::InitLogRequest init_request;
      init_request.set_log_id(tree->tree_id());
      trillian::InitLogResponse response;
      EXPECT_TRUE(service_->InitLog(&init_request, &response).ok());
    }
    return tree->tree_id();
  }

  grpc::Status Queue(int64_t id, const std::vector<std::string>& values,
                     trillian::QueueLeavesResponse* response) {
    trillian::QueueLeavesRequest request;
    request.set_log_id(id);
    for (const std::string& v : values) {
      request.add_leaves()->set_leaf_value(v);
    }
    return service_->QueueLeaves(&request, response);
  }

  void SequenceAll(int64_t id) {
    auto tree = trees_->GetTree(id);
    ASSERT_TRUE(tree.ok());
    for (;;) {
      auto n = sequencer_->IntegrateBatch(*tree, absl::Now());
      ASSERT_TRUE(n.ok()) << n.status();
      if (*n == 0) break;
    }
  }

  // The latest root, after checking its signature with the tree's public key.
  merkle::LogRootV1 VerifiedRoot(int64_t id) {
    trillian::GetLatestSignedLogRootRequest request;
    request.set_log_id(id);
    trillian::GetLatestSignedLogRootResponse response;
    EXPECT_TRUE(service_->GetLatestSignedLogRoot(&request, &response).ok());
    const auto& root = response.signed_log_root();
    auto tree = trees_->GetTree(id);
    EXPECT_TRUE(crypto::VerifySignature(tree->public_key().der(),
                                        root.log_root(),
                                        root.log_root_signature())
                    .ok());
    EXPECT_EQ(root.key_hint().size(), 8u);
    return *merkle::ParseLogRoot(root.log_root());
  }

  static std::vector<std::string> Values(int from, int to) {
    std::vector<std::string> out;
    for (int i = from; i < to; ++i) out.push_back("value-" + std::to_string(i));
    return out;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksTreeStorage> trees_;
  std::unique_ptr<storage::rocksdb::RocksLogStorage> logs_;
  std::unique_ptr<admin::KeyStore> keys_;
  std::unique_ptr<admin::TreeManager> manager_;
  std::unique_ptr<Sequencer> sequencer_;
  std::unique_ptr<LogManager> log_manager_;
  std::unique_ptr<LogService> service_;
};

TEST_F(LogServiceTest, InitQueueSequenceProve) {
  const int64_t id = CreateTree(trillian::LOG, /*init=*/false);
  trillian::QueueLeavesResponse queued;
  EXPECT_EQ(Queue(id, {"x"}, &queued).error_code(),
            StatusCode::FAILED_PRECONDITION);
  trillian::InitLogRequest init;
  init.set_log_id(id);
  trillian::InitLogResponse init_response;
  ASSERT_TRUE(service_->InitLog(&init, &init_response).ok());
  EXPECT_EQ(service_->InitLog(&init, &init_response).error_code(),
            StatusCode::ALREADY_EXISTS);
  EXPECT_EQ(VerifiedRoot(id).tree_size, 0u);
  EXPECT_EQ(VerifiedRoot(id).root_hash, merkle::EmptyRoot());

  ASSERT_TRUE(Queue(id, Values(0, 1500), &queued).ok());
  SequenceAll(id);
  const merkle::LogRootV1 first = VerifiedRoot(id);
  EXPECT_EQ(first.tree_size, 1500u);
  EXPECT_EQ(first.revision, 2u);  // Two batches of at most 1000.

  // Duplicates: answered ALREADY_EXISTS with the held, integrated leaf.
  queued.Clear();
  ASSERT_TRUE(Queue(id, {"value-7", "fresh"}, &queued).ok());
  ASSERT_EQ(queued.queued_leaves_size(), 2);
  EXPECT_EQ(queued.queued_leaves(0).status().code(),
            static_cast<int>(StatusCode::ALREADY_EXISTS));
  EXPECT_EQ(queued.queued_leaves(0).leaf().leaf_index(), 7);
  EXPECT_EQ(queued.queued_leaves(1).status().code(), 0);
  EXPECT_EQ(queued.queued_leaves(1).leaf().merkle_leaf_hash(),
            merkle::HashLeaf("fresh"));
  ASSERT_TRUE(Queue(id, Values(1500, 2100), &queued).ok());
  SequenceAll(id);
  const merkle::LogRootV1 second = VerifiedRoot(id);
  EXPECT_EQ(second.tree_size, 2101u);

  for (int64_t index : {0, 1, 999, 1499, 1500, 2100}) {
    trillian::GetInclusionProofRequest request;
    request.set_log_id(id);
    request.set_leaf_index(index);
    request.set_tree_size(second.tree_size);
    trillian::GetInclusionProofResponse response;
    ASSERT_TRUE(service_->GetInclusionProof(&request, &response).ok());
    std::vector<std::string> proof(response.proof().hashes().begin(),
                                   response.proof().hashes().end());
    const std::string value =
        index == 1500
            ? "fresh"
            : "value-" + std::to_string(index < 1500 ? index : index - 1);
    EXPECT_TRUE(merkle::VerifyInclusion(index, second.tree_size,
                                        merkle::HashLeaf(value), proof,
                                        second.root_hash)
                    .ok())
        << index;
  }

  trillian::GetConsistencyProofRequest consistency;
  consistency.set_log_id(id);
  consistency.set_first_tree_size(first.tree_size);
  consistency.set_second_tree_size(second.tree_size);
  trillian::GetConsistencyProofResponse consistency_response;
  ASSERT_TRUE(
      service_->GetConsistencyProof(&consistency, &consistency_response).ok());
  std::vector<std::string> proof(consistency_response.proof().hashes().begin(),
                                 consistency_response.proof().hashes().end());
  EXPECT_TRUE(merkle::VerifyConsistency(first.tree_size, second.tree_size,
                                        first.root_hash, second.root_hash,
                                        proof)
                  .ok());

  trillian::GetLatestSignedLogRootRequest latest;
  latest.set_log_id(id);
  latest.set_first_tree_size(first.tree_size);
  trillian::GetLatestSignedLogRootResponse latest_response;
  ASSERT_TRUE(service_->GetLatestSignedLogRoot(&latest, &latest_response).ok());
  EXPECT_EQ(latest_response.proof().hashes_size(),
            consistency_response.proof().hashes_size());
  latest.set_first_tree_size(second.tree_size + 1);
  EXPECT_EQ(
      service_->GetLatestSignedLogRoot(&latest, &latest_response).error_code(),
      StatusCode::INVALID_ARGUMENT);

  trillian::GetEntryAndProofRequest entry;
  entry.set_log_id(id);
  entry.set_leaf_index(42);
  entry.set_tree_size(second.tree_size + 100);  // Clamped to the latest.
  trillian::GetEntryAndProofResponse entry_response;
  ASSERT_TRUE(service_->GetEntryAndProof(&entry, &entry_response).ok());
  EXPECT_EQ(entry_response.leaf().leaf_value(), "value-42");
  std::vector<std::string> entry_proof(entry_response.proof().hashes().begin(),
                                       entry_response.proof().hashes().end());
  EXPECT_TRUE(merkle::VerifyInclusion(42, second.tree_size,
                                      merkle::HashLeaf("value-42"), entry_proof,
                                      second.root_hash)
                  .ok());
  EXPECT_TRUE(entry_response.leaf().has_integrate_timestamp());
  EXPECT_TRUE(entry_response.leaf().has_queue_timestamp());

  trillian::GetInclusionProofByHashRequest by_hash;
  by_hash.set_log_id(id);
  by_hash.set_leaf_hash(merkle::HashLeaf("value-3"));
  by_hash.set_tree_size(second.tree_size);
  trillian::GetInclusionProofByHashResponse by_hash_response;
  ASSERT_TRUE(
      service_->GetInclusionProofByHash(&by_hash, &by_hash_response).ok());
  ASSERT_EQ(by_hash_response.proof_size(), 1);
  EXPECT_EQ(by_hash_response.proof(0).leaf_index(), 3);
  by_hash.set_leaf_hash(merkle::HashLeaf("absent"));
  EXPECT_EQ(service_->GetInclusionProofByHash(&by_hash, &by_hash_response)
                .error_code(),
            StatusCode::NOT_FOUND);

  trillian::GetLeavesByRangeRequest range;
  range.set_log_id(id);
  range.set_start_index(2095);
  range.set_count(100);
  trillian::GetLeavesByRangeResponse range_response;
  ASSERT_TRUE(service_->GetLeavesByRange(&range, &range_response).ok());
  EXPECT_EQ(range_response.leaves_size(), 6);
  range.set_start_index(5000);
  range_response.Clear();
  ASSERT_TRUE(service_->GetLeavesByRange(&range, &range_response).ok());
  EXPECT_EQ(range_response.leaves_size(), 0);

  trillian::GetLeavesByHashRequest leaves_by_hash;
  leaves_by_hash.set_log_id(id);
  leaves_by_hash.add_leaf_hash(merkle::HashLeaf("value-9"));
  leaves_by_hash.add_leaf_hash(merkle::HashLeaf("value-4"));
  leaves_by_hash.add_leaf_hash(merkle::HashLeaf("never"));
  leaves_by_hash.set_order_by_sequence(true);
  trillian::GetLeavesByHashResponse leaves_by_hash_response;
  ASSERT_TRUE(
      service_->GetLeavesByHash(&leaves_by_hash, &leaves_by_hash_response)
          .ok());
  ASSERT_EQ(leaves_by_hash_response.leaves_size(), 2);
  EXPECT_EQ(leaves_by_hash_response.leaves(0).leaf_index(), 4);

  trillian::GetSequencedLeafCountRequest count;
  count.set_log_id(id);
  trillian::GetSequencedLeafCountResponse count_response;
  ASSERT_TRUE(service_->GetSequencedLeafCount(&count, &count_response).ok());
  EXPECT_EQ(count_response.leaf_count(), 2101);
}

TEST_F(LogServiceTest, ServerSkewAnswersWithTheLatestRoot) {
  const int64_t id = CreateTree(trillian::LOG);
  trillian::QueueLeavesResponse queued;
  ASSERT_TRUE(Queue(id, Values(0, 10), &queued).ok());
  SequenceAll(id);

  trillian::GetInclusionProofRequest inclusion;
  inclusion.set_log_id(id);
  inclusion.set_leaf_index(3);
  inclusion.set_tree_size(11);
  trillian::GetInclusionProofResponse inclusion_response;
  ASSERT_TRUE(
      service_->GetInclusionProof(&inclusion, &inclusion_response).ok());
  EXPECT_FALSE(inclusion_response.has_proof());
  EXPECT_EQ(
      merkle::ParseLogRoot(inclusion_response.signed_log_root().log_root())
          ->tree_size,
      10u);

  trillian::GetConsistencyProofRequest consistency;
  consistency.set_log_id(id);
  consistency.set_first_tree_size(5);
  consistency.set_second_tree_size(20);
  trillian::GetConsistencyProofResponse consistency_response;
  ASSERT_TRUE(
      service_->GetConsistencyProof(&consistency, &consistency_response).ok());
  EXPECT_FALSE(consistency_response.has_proof());
  EXPECT_TRUE(consistency_response.has_signed_log_root());

  trillian::GetEntryAndProofRequest entry;
  entry.set_log_id(id);
  entry.set_leaf_index(15);
  entry.set_tree_size(20);
  trillian::GetEntryAndProofResponse entry_response;
  ASSERT_TRUE(service_->GetEntryAndProof(&entry, &entry_response).ok());
  EXPECT_FALSE(entry_response.has_leaf());
  EXPECT_TRUE(entry_response.has_signed_log_root());
}

TEST_F(LogServiceTest, BadRequestsGetCleanStatuses) {
  const int64_t id = CreateTree(trillian::LOG);
  trillian::QueueLeavesResponse queued;
  ASSERT_TRUE(Queue(id, Values(0, 4), &queued).ok());
  SequenceAll(id);
  const merkle::LogRootV1 before = VerifiedRoot(id);

  trillian::GetInclusionProofRequest inclusion;
  trillian::GetInclusionProofResponse inclusion_response;
  inclusion.set_log_id(id);
  for (auto [index, size] : std::vector<std::pair<int64_t, int64_t>>{
           {-1, 4}, {0, 0}, {0, -5}, {4, 4}, {7, 3}}) {
    inclusion.set_leaf_index(index);
    inclusion.set_tree_size(size);
    EXPECT_EQ(service_->GetInclusionProof(&inclusion, &inclusion_response)
                  .error_code(),
              StatusCode::INVALID_ARGUMENT)
        << index << " " << size;
  }
  trillian::GetConsistencyProofRequest consistency;
  trillian::GetConsistencyProofResponse consistency_response;
  consistency.set_log_id(id);
  for (auto [a, b] : std::vector<std::pair<int64_t, int64_t>>{
           {0, 4}, {-1, 4}, {3, 2}, {1, -1}}) {
    consistency.set_first_tree_size(a);
    consistency.set_second_tree_size(b);
    EXPECT_EQ(service_->GetConsistencyProof(&consistency, &consistency_response)
                  .error_code(),
              StatusCode::INVALID_ARGUMENT);
  }
  trillian::GetLeavesByIndexRequest by_index;
  trillian::GetLeavesByIndexResponse by_index_response;
  by_index.set_log_id(id);
  EXPECT_EQ(
      service_->GetLeavesByIndex(&by_index, &by_index_response).error_code(),
      StatusCode::INVALID_ARGUMENT);
  by_index.add_leaf_index(-3);
  EXPECT_EQ(
      service_->GetLeavesByIndex(&by_index, &by_index_response).error_code(),
      StatusCode::INVALID_ARGUMENT);
  by_index.set_leaf_index(0, 4);
  EXPECT_EQ(
      service_->GetLeavesByIndex(&by_index, &by_index_response).error_code(),
      StatusCode::OUT_OF_RANGE);
  trillian::GetLeavesByRangeRequest range;
  trillian::GetLeavesByRangeResponse range_response;
  range.set_log_id(id);
  range.set_start_index(-1);
  range.set_count(1);
  EXPECT_EQ(service_->GetLeavesByRange(&range, &range_response).error_code(),
            StatusCode::INVALID_ARGUMENT);
  range.set_start_index(0);
  range.set_count(0);
  EXPECT_EQ(service_->GetLeavesByRange(&range, &range_response).error_code(),
            StatusCode::INVALID_ARGUMENT);
  trillian::GetLeavesByHashRequest by_hash;
  trillian::GetLeavesByHashResponse by_hash_response;
  by_hash.set_log_id(id);
  by_hash.add_leaf_hash("short");
  EXPECT_EQ(service_->GetLeavesByHash(&by_hash, &by_hash_response).error_code(),
            StatusCode::INVALID_ARGUMENT);

  // Bad leaves.
  trillian::QueueLeavesRequest bad;
  bad.set_log_id(id);
  EXPECT_EQ(service_->QueueLeaves(&bad, &queued).error_code(),
            StatusCode::INVALID_ARGUMENT);  // Empty.
  bad.add_leaves();                         // Empty value.
  EXPECT_EQ(service_->QueueLeaves(&bad, &queued).error_code(),
            StatusCode::INVALID_ARGUMENT);
  bad.mutable_leaves(0)->set_leaf_value("v");
  bad.mutable_leaves(0)->set_leaf_identity_hash("short");
  EXPECT_EQ(service_->QueueLeaves(&bad, &queued).error_code(),
            StatusCode::INVALID_ARGUMENT);
  bad.mutable_leaves(0)->clear_leaf_identity_hash();
  bad.mutable_leaves(0)->set_leaf_index(-1);
  EXPECT_EQ(service_->QueueLeaves(&bad, &queued).error_code(),
            StatusCode::INVALID_ARGUMENT);
  trillian::QueueLeavesRequest oversized;
  oversized.set_log_id(id);
  for (int i = 0; i < 50001; ++i) oversized.add_leaves()->set_leaf_value("v");
  EXPECT_EQ(service_->QueueLeaves(&oversized, &queued).error_code(),
            StatusCode::INVALID_ARGUMENT);

  // Unknown trees.
  EXPECT_EQ(Queue(id + 1, {"x"}, &queued).error_code(), StatusCode::NOT_FOUND);
  inclusion.set_log_id(-7);
  inclusion.set_leaf_index(0);
  inclusion.set_tree_size(1);
  EXPECT_EQ(
      service_->GetInclusionProof(&inclusion, &inclusion_response).error_code(),
      StatusCode::NOT_FOUND);

  // Nothing changed.
  SequenceAll(id);
  const merkle::LogRootV1 after = VerifiedRoot(id);
  EXPECT_EQ(after.tree_size, before.tree_size);
  EXPECT_EQ(after.root_hash, before.root_hash);
}

TEST_F(LogServiceTest, TreeStatesAndTypes) {
  const int64_t id = CreateTree(trillian::LOG);
  trillian::QueueLeavesResponse queued;
  ASSERT_TRUE(Queue(id, Values(0, 5), &queued).ok());

  auto set_state = [&](int64_t tree_id, trillian::TreeState state) {
    trillian::UpdateTreeRequest update;
    update.mutable_tree()->set_tree_id(tree_id);
    update.mutable_tree()->set_tree_state(state);
    update.mutable_update_mask()->add_paths("tree_state");
    ASSERT_TRUE(manager_->UpdateTree(update).ok());
  };
  // DRAINING: no new leaves, but the queue still drains.
  set_state(id, trillian::DRAINING);
  EXPECT_EQ(Queue(id, {"late"}, &queued).error_code(),
            StatusCode::PERMISSION_DENIED);
  SequenceAll(id);
  EXPECT_EQ(VerifiedRoot(id).tree_size, 5u);
  set_state(id, trillian::FROZEN);
  EXPECT_EQ(Queue(id, {"late"}, &queued).error_code(),
            StatusCode::PERMISSION_DENIED);
  trillian::GetLeavesByRangeRequest range;
  range.set_log_id(id);
  range.set_count(10);
  trillian::GetLeavesByRangeResponse range_response;
  ASSERT_TRUE(service_->GetLeavesByRange(&range, &range_response).ok());
  EXPECT_EQ(range_response.leaves_size(), 5);

  // Deleted trees are not found; undeleted ones come back.
  ASSERT_TRUE(manager_->DeleteTree(id).ok());
  EXPECT_EQ(service_->GetLeavesByRange(&range, &range_response).error_code(),
            StatusCode::NOT_FOUND);
  ASSERT_TRUE(manager_->UndeleteTree(id).ok());
  EXPECT_TRUE(service_->GetLeavesByRange(&range, &range_response).ok());

  // Writes of the wrong kind for the tree type.
  trillian::AddSequencedLeavesRequest sequenced;
  sequenced.set_log_id(id);
  sequenced.add_leaves()->set_leaf_value("v");
  trillian::AddSequencedLeavesResponse sequenced_response;
  EXPECT_EQ(service_->AddSequencedLeaves(&sequenced, &sequenced_response)
                .error_code(),
            StatusCode::INVALID_ARGUMENT);
  const int64_t pre = CreateTree(trillian::PREORDERED_LOG);
  EXPECT_EQ(Queue(pre, {"v"}, &queued).error_code(),
            StatusCode::INVALID_ARGUMENT);
}

TEST_F(LogServiceTest, PreorderedLogIntegratesContiguousRuns) {
  const int64_t id = CreateTree(trillian::PREORDERED_LOG);
  auto add = [&](int64_t first, int n,
                 trillian::AddSequencedLeavesResponse* r) {
    trillian::AddSequencedLeavesRequest request;
    request.set_log_id(id);
    for (int i = 0; i < n; ++i) {
      auto* leaf = request.add_leaves();
      leaf->set_leaf_value("p" + std::to_string(first + i));
      leaf->set_leaf_index(first + i);
    }
    return service_->AddSequencedLeaves(&request, r);
  };
  trillian::AddSequencedLeavesResponse response;
  ASSERT_TRUE(add(5, 3, &response).ok());  // 5..7: a gap before them.
  SequenceAll(id);
  EXPECT_EQ(VerifiedRoot(id).tree_size, 0u);
  ASSERT_TRUE(add(0, 5, &response).ok());
  SequenceAll(id);
  EXPECT_EQ(VerifiedRoot(id).tree_size, 8u);
  // Re-adding the same leaf: ALREADY_EXISTS; another leaf there: conflict.
  response.Clear();
  ASSERT_TRUE(add(2, 1, &response).ok());
  EXPECT_EQ(response.results(0).status().code(),
            static_cast<int>(StatusCode::ALREADY_EXISTS));
  trillian::AddSequencedLeafRequest one;
  one.set_log_id(id);
  one.mutable_leaf()->set_leaf_value("different");
  one.mutable_leaf()->set_leaf_index(2);
  trillian::AddSequencedLeafResponse one_response;
  ASSERT_TRUE(service_->AddSequencedLeaf(&one, &one_response).ok());
  EXPECT_EQ(one_response.result().status().code(),
            static_cast<int>(StatusCode::FAILED_PRECONDITION));
  EXPECT_EQ(one_response.result().leaf().leaf_value(), "p2");
  // Non-contiguous indices in one request.
  trillian::AddSequencedLeavesRequest gap;
  gap.set_log_id(id);
  gap.add_leaves()->set_leaf_value("a");
  gap.mutable_leaves(0)->set_leaf_index(8);
  gap.add_leaves()->set_leaf_value("b");
  gap.mutable_leaves(1)->set_leaf_index(10);
  EXPECT_EQ(service_->AddSequencedLeaves(&gap, &response).error_code(),
            StatusCode::FAILED_PRECONDITION);

  // A leaf stranded beyond the end (index 20, tree size 8) keeps the tree
  // from becoming a LOG, whose queue would take those indices.
  ASSERT_TRUE(add(20, 1, &response).ok());
  SequenceAll(id);
  trillian::UpdateTreeRequest freeze;
  freeze.mutable_tree()->set_tree_id(id);
  freeze.mutable_tree()->set_tree_state(trillian::FROZEN);
  freeze.mutable_update_mask()->add_paths("tree_state");
  ASSERT_TRUE(manager_->UpdateTree(freeze).ok());
  trillian::UpdateTreeRequest to_log = freeze;
  to_log.mutable_tree()->set_tree_type(trillian::LOG);
  to_log.mutable_update_mask()->add_paths("tree_type");
  EXPECT_EQ(manager_->UpdateTree(to_log).status().code(),
            absl::StatusCode::kFailedPrecondition);
  const int64_t clean = CreateTree(trillian::PREORDERED_LOG);
  ASSERT_TRUE(manager_->DeleteTree(clean).ok() &&
              manager_->UndeleteTree(clean).ok());
  freeze.mutable_tree()->set_tree_id(clean);
  to_log.mutable_tree()->set_tree_id(clean);
  ASSERT_TRUE(manager_->UpdateTree(freeze).ok());
  auto converted = manager_->UpdateTree(to_log);
  ASSERT_TRUE(converted.ok()) << converted.status();
  EXPECT_EQ(converted->tree_type(), trillian::LOG);
}

TEST_F(LogServiceTest, MaxRootDurationResignsAnIdleTree) {
  trillian::CreateTreeRequest request;
  request.mutable_tree()->set_tree_type(trillian::LOG);
  request.mutable_tree()->mutable_max_root_duration()->set_seconds(60);
  auto tree = manager_->CreateTree(request);
  ASSERT_TRUE(tree.ok());
  trillian::InitLogRequest init;
  init.set_log_id(tree->tree_id());
  trillian::InitLogResponse init_response;
  ASSERT_TRUE(service_->InitLog(&init, &init_response).ok());
  EXPECT_EQ(*sequencer_->IntegrateBatch(*tree, absl::Now()), 0u);
  EXPECT_EQ(VerifiedRoot(tree->tree_id()).revision, 0u);
  EXPECT_EQ(*sequencer_->IntegrateBatch(*tree, absl::Now() + absl::Minutes(2)),
            0u);
  const merkle::LogRootV1 root = VerifiedRoot(tree->tree_id());
  EXPECT_EQ(root.revision, 1u);
  EXPECT_EQ(root.tree_size, 0u);
}

TEST_F(LogServiceTest, RestartResumesWhereItStopped) {
  const int64_t id = CreateTree(trillian::LOG);
  trillian::QueueLeavesResponse queued;
  ASSERT_TRUE(Queue(id, Values(0, 700), &queued).ok());
  SequenceAll(id);
  const merkle::LogRootV1 before = VerifiedRoot(id);
  ASSERT_TRUE(Queue(id, Values(700, 900), &queued).ok());
  Open();  // Everything rebuilt from disk.
  SequenceAll(id);
  const merkle::LogRootV1 after = VerifiedRoot(id);
  EXPECT_EQ(after.tree_size, 900u);
  EXPECT_EQ(after.revision, before.revision + 1);
  trillian::GetConsistencyProofRequest consistency;
  consistency.set_log_id(id);
  consistency.set_first_tree_size(before.tree_size);
  consistency.set_second_tree_size(after.tree_size);
  trillian::GetConsistencyProofResponse response;
  ASSERT_TRUE(service_->GetConsistencyProof(&consistency, &response).ok());
  std::vector<std::string> proof(response.proof().hashes().begin(),
                                 response.proof().hashes().end());
  EXPECT_TRUE(merkle::VerifyConsistency(before.tree_size, after.tree_size,
                                        before.root_hash, after.root_hash,
                                        proof)
                  .ok());
}

// Leaves with one value but their own identities share a Merkle hash: a
// lookup by hash proves each, lowest index first, as many as asked.
TEST_F(LogServiceTest, ProofsByHashComeInIndexOrderUpToTheLimit) {
  const int64_t id = CreateTree(trillian::LOG);
  trillian::QueueLeavesRequest request;
  request.set_log_id(id);
  for (int i = 0; i < 3; ++i) {
    trillian::LogLeaf* leaf = request.add_leaves();
    leaf->set_leaf_value("same");
    leaf->set_leaf_identity_hash(std::string(32, static_cast<char>('a' + i)));
  }
  trillian::QueueLeavesResponse response;
  ASSERT_TRUE(service_->QueueLeaves(&request, &response).ok());
  SequenceAll(id);
  const std::string hash = merkle::HashLeaf("same");
  auto all = log_manager_->InclusionProofsByHash(id, hash, 3);
  ASSERT_TRUE(all.ok() && all->value.has_value()) << all.status();
  ASSERT_EQ(all->value->size(), 3u);
  auto first = log_manager_->InclusionProofsByHash(id, hash, 3, 1);
  ASSERT_TRUE(first.ok() && first->value.has_value()) << first.status();
  ASSERT_EQ(first->value->size(), 1u);
  EXPECT_EQ(first->value->front().leaf_index, 0);
  EXPECT_EQ(first->value->front().hashes, all->value->front().hashes);
}

}  // namespace
}  // namespace trellis::log
