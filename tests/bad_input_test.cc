// Hostile and malformed input against a running trellisd: garbage on the
// gRPC port, oversized batches, unknown trees, negative numbers. Each gets a
// clean status, the server stays up, and the stored tree is unchanged.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "gtest/gtest.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "merkle/verifier.h"
#include "tests/trellisd_process.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using grpc::StatusCode;

// Connects to the port, writes `bytes`, reads whatever comes back until the
// server closes or a second passes.
void SendRaw(int port, const std::string& bytes) {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  (void)!write(fd, bytes.data(), bytes.size());
  timeval timeout{1, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  char buf[4096];
  while (read(fd, buf, sizeof(buf)) > 0) {
  }
  close(fd);
}

class BadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TrellisdProcess>(dir_.path() + "/data");
    log_ = server_->LogStub();
    admin_ = server_->AdminStub();
    grpc::ClientContext context;
    trillian::CreateTreeRequest create;
    create.mutable_tree()->set_tree_type(trillian::LOG);
    ASSERT_TRUE(admin_->CreateTree(&context, create, &tree_).ok());
    grpc::ClientContext init_context;
    trillian::InitLogRequest init;
    init.set_log_id(tree_.tree_id());
    trillian::InitLogResponse init_response;
    ASSERT_TRUE(log_->InitLog(&init_context, init, &init_response).ok());
    trillian::QueueLeavesRequest queue;
    queue.set_log_id(tree_.tree_id());
    for (int i = 0; i < 100; ++i) {
      queue.add_leaves()->set_leaf_value("leaf-" + std::to_string(i));
    }
    grpc::ClientContext queue_context;
    trillian::QueueLeavesResponse queued;
    ASSERT_TRUE(log_->QueueLeaves(&queue_context, queue, &queued).ok());
    for (int i = 0; i < 500 && Root().tree_size < 100; ++i) {
      usleep(10000);
    }
    before_ = Root();
    ASSERT_EQ(before_.tree_size, 100u);
  }

  merkle::LogRootV1 Root() {
    grpc::ClientContext context;
    trillian::GetLatestSignedLogRootRequest request;
    request.set_log_id(tree_.tree_id());
    trillian::GetLatestSignedLogRootResponse response;
    EXPECT_TRUE(
        log_->GetLatestSignedLogRoot(&context, request, &response).ok());
    return *merkle::ParseLogRoot(response.signed_log_root().log_root());
  }

  // The stored tree is exactly as before and still proves its leaves.
  void ExpectIntact() {
    const merkle::LogRootV1 now = Root();
    EXPECT_EQ(now.tree_size, before_.tree_size);
    EXPECT_EQ(now.root_hash, before_.root_hash);
    grpc::ClientContext context;
    trillian::GetInclusionProofRequest request;
    request.set_log_id(tree_.tree_id());
    request.set_leaf_index(42);
    request.set_tree_size(now.tree_size);
    trillian::GetInclusionProofResponse response;
    ASSERT_TRUE(log_->GetInclusionProof(&context, request, &response).ok());
    std::vector<std::string> proof(response.proof().hashes().begin(),
                                   response.proof().hashes().end());
    EXPECT_TRUE(merkle::VerifyInclusion(42, now.tree_size,
                                        merkle::HashLeaf("leaf-42"), proof,
                                        now.root_hash)
                    .ok());
  }

  TempDir dir_;
  std::unique_ptr<TrellisdProcess> server_;
  std::unique_ptr<trillian::TrillianLog::Stub> log_;
  std::unique_ptr<trillian::TrillianAdmin::Stub> admin_;
  trillian::Tree tree_;
  merkle::LogRootV1 before_;
};

TEST_F(BadInputTest, GarbageBytesOnTheGrpcPort) {
  std::mt19937 rng(1);
  std::string noise(64 << 10, '\0');
  for (char& c : noise) c = static_cast<char>(rng());
  SendRaw(server_->port(), noise);
  SendRaw(server_->port(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  // A valid HTTP/2 preface followed by a corrupt frame.
  SendRaw(server_->port(),
          std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") +
              std::string(
                  "\x00\x00\x04\x01\x05\x00\x00\x00\x01\xff\xff\xff\xff", 13));
  SendRaw(server_->port(), "");
  ExpectIntact();
}

TEST_F(BadInputTest, OversizedBatches) {
  // More leaves than a request may carry.
  trillian::QueueLeavesRequest many;
  many.set_log_id(tree_.tree_id());
  for (int i = 0; i < 50001; ++i)
    many.add_leaves()->set_leaf_value("x" + std::to_string(i));
  grpc::ClientContext c1;
  trillian::QueueLeavesResponse r1;
  EXPECT_EQ(log_->QueueLeaves(&c1, many, &r1).error_code(),
            StatusCode::INVALID_ARGUMENT);
  // A message beyond the server's receive limit.
  trillian::QueueLeavesRequest huge;
  huge.set_log_id(tree_.tree_id());
  huge.add_leaves()->set_leaf_value(std::string(70 << 20, 'h'));
  grpc::ClientContext c2;
  trillian::QueueLeavesResponse r2;
  EXPECT_EQ(log_->QueueLeaves(&c2, huge, &r2).error_code(),
            StatusCode::RESOURCE_EXHAUSTED);
  // Reads asking for too much get capped or refused, never crash.
  trillian::GetLeavesByRangeRequest range;
  range.set_log_id(tree_.tree_id());
  range.set_count(int64_t{1} << 62);
  grpc::ClientContext c3;
  trillian::GetLeavesByRangeResponse r3;
  ASSERT_TRUE(log_->GetLeavesByRange(&c3, range, &r3).ok());
  EXPECT_EQ(r3.leaves_size(), 100);
  trillian::GetLeavesByIndexRequest by_index;
  by_index.set_log_id(tree_.tree_id());
  for (int i = 0; i < 5000; ++i) by_index.add_leaf_index(i % 100);
  grpc::ClientContext c4;
  trillian::GetLeavesByIndexResponse r4;
  EXPECT_EQ(log_->GetLeavesByIndex(&c4, by_index, &r4).error_code(),
            StatusCode::INVALID_ARGUMENT);
  usleep(200000);  // Give the sequencer a chance to misbehave.
  ExpectIntact();
}

TEST_F(BadInputTest, UnknownTreesAndNegativeNumbers) {
  for (int64_t id : {int64_t{0}, int64_t{-1}, tree_.tree_id() + 1,
                     std::numeric_limits<int64_t>::max()}) {
    grpc::ClientContext c1;
    trillian::GetLatestSignedLogRootRequest latest;
    latest.set_log_id(id);
    trillian::GetLatestSignedLogRootResponse r1;
    EXPECT_EQ(log_->GetLatestSignedLogRoot(&c1, latest, &r1).error_code(),
              StatusCode::NOT_FOUND);
    grpc::ClientContext c2;
    trillian::QueueLeafRequest queue;
    queue.set_log_id(id);
    queue.mutable_leaf()->set_leaf_value("v");
    trillian::QueueLeafResponse r2;
    EXPECT_EQ(log_->QueueLeaf(&c2, queue, &r2).error_code(),
              StatusCode::NOT_FOUND);
    grpc::ClientContext c3;
    trillian::GetTreeRequest get;
    get.set_tree_id(id);
    trillian::Tree r3;
    EXPECT_EQ(admin_->GetTree(&c3, get, &r3).error_code(),
              StatusCode::NOT_FOUND);
  }
  const int64_t id = tree_.tree_id();
  grpc::ClientContext c4;
  trillian::GetInclusionProofRequest inclusion;
  inclusion.set_log_id(id);
  inclusion.set_leaf_index(-5);
  inclusion.set_tree_size(10);
  trillian::GetInclusionProofResponse r4;
  EXPECT_EQ(log_->GetInclusionProof(&c4, inclusion, &r4).error_code(),
            StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext c5;
  trillian::GetConsistencyProofRequest consistency;
  consistency.set_log_id(id);
  consistency.set_first_tree_size(-1);
  consistency.set_second_tree_size(-2);
  trillian::GetConsistencyProofResponse r5;
  EXPECT_EQ(log_->GetConsistencyProof(&c5, consistency, &r5).error_code(),
            StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext c6;
  trillian::GetLeavesByRangeRequest range;
  range.set_log_id(id);
  range.set_start_index(-100);
  range.set_count(-1);
  trillian::GetLeavesByRangeResponse r6;
  EXPECT_EQ(log_->GetLeavesByRange(&c6, range, &r6).error_code(),
            StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext c7;
  trillian::GetEntryAndProofRequest entry;
  entry.set_log_id(id);
  entry.set_leaf_index(std::numeric_limits<int64_t>::min());
  entry.set_tree_size(std::numeric_limits<int64_t>::min());
  trillian::GetEntryAndProofResponse r7;
  EXPECT_EQ(log_->GetEntryAndProof(&c7, entry, &r7).error_code(),
            StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext c8;
  trillian::GetLatestSignedLogRootRequest latest;
  latest.set_log_id(id);
  latest.set_first_tree_size(-3);
  trillian::GetLatestSignedLogRootResponse r8;
  EXPECT_EQ(log_->GetLatestSignedLogRoot(&c8, latest, &r8).error_code(),
            StatusCode::INVALID_ARGUMENT);
  grpc::ClientContext c9;
  trillian::AddSequencedLeafRequest sequenced;
  sequenced.set_log_id(id);
  sequenced.mutable_leaf()->set_leaf_value("v");
  sequenced.mutable_leaf()->set_leaf_index(-1);
  trillian::AddSequencedLeafResponse r9;
  EXPECT_EQ(
      log_->AddSequencedLeaf(&c9, sequenced, &r9).error_code(),
      StatusCode::INVALID_ARGUMENT);  // A LOG tree takes no sequenced leaves.
  grpc::ClientContext c10;
  trillian::UpdateTreeRequest update;
  update.mutable_tree()->set_tree_id(id);
  update.mutable_tree()->set_tree_id(id);
  update.mutable_update_mask()->add_paths("public_key");
  trillian::Tree r10;
  EXPECT_EQ(admin_->UpdateTree(&c10, update, &r10).error_code(),
            StatusCode::INVALID_ARGUMENT);
  ExpectIntact();
}

}  // namespace
}  // namespace trellis::testing
