// Kills trellisd with SIGKILL in the middle of a QueueLeaves load, restarts
// it, and checks that every acknowledged leaf ends up integrated exactly
// once and that the tree it had signed is a prefix of the recovered one.
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "merkle/log_root.h"
#include "merkle/verifier.h"
#include "nlohmann/json.hpp"
#include "tests/trellisd_process.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

merkle::LogRootV1 Latest(trillian::TrillianLog::Stub& log, int64_t tree_id) {
  grpc::ClientContext context;
  trillian::GetLatestSignedLogRootRequest request;
  request.set_log_id(tree_id);
  trillian::GetLatestSignedLogRootResponse response;
  EXPECT_TRUE(log.GetLatestSignedLogRoot(&context, request, &response).ok());
  return *merkle::ParseLogRoot(response.signed_log_root().log_root());
}

TEST(CrashTest, AcknowledgedLeavesSurviveSigkill) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  auto server = std::make_unique<TrellisdProcess>(
      data, std::vector<std::string>{"--batch_size=2000"});
  CliResult created = RunCli({"--addr=" + server->address(), "tree", "create"});
  ASSERT_EQ(created.exit_code, 0);
  const int64_t tree_id = std::stoll(
      nlohmann::json::parse(created.out)["treeId"].get<std::string>());

  // Writers queue unique leaves until the server dies, remembering which
  // calls were acknowledged.
  std::mutex mu;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      auto log = server->LogStub();
      for (int batch = 0; !stop; ++batch) {
        trillian::QueueLeavesRequest request;
        request.set_log_id(tree_id);
        std::vector<std::string> values;
        for (int i = 0; i < 200; ++i) {
          values.push_back("w" + std::to_string(w) + "-b" +
                           std::to_string(batch) + "-" + std::to_string(i));
          request.add_leaves()->set_leaf_value(values.back());
        }
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() +
                             std::chrono::seconds(5));
        trillian::QueueLeavesResponse response;
        if (!log->QueueLeaves(&context, request, &response).ok()) break;
        std::lock_guard<std::mutex> lock(mu);
        acknowledged.insert(acknowledged.end(), values.begin(), values.end());
      }
    });
  }
  // Kill once there is a real load in flight (a condition, not a sleep).
  const absl::Time load_deadline = absl::Now() + absl::Seconds(60);
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu);
      if (acknowledged.size() >= 20000 || absl::Now() > load_deadline) break;
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  merkle::LogRootV1 before_crash = Latest(*server->LogStub(), tree_id);
  server->Kill();
  stop = true;
  for (auto& w : writers) w.join();
  ASSERT_GT(acknowledged.size(), 1000u) << "load too small to be meaningful";

  server = std::make_unique<TrellisdProcess>(data);
  auto log = server->LogStub();
  // Wait until the log holds at least every acknowledged leaf (leaves queued
  // but not yet acknowledged at the kill may come on top).
  merkle::LogRootV1 root = Latest(*log, tree_id);
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  while (root.tree_size < acknowledged.size() && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(20));
    root = Latest(*log, tree_id);
  }
  ASSERT_GE(root.tree_size, acknowledged.size());

  std::map<std::string, int> seen;
  for (uint64_t start = 0; start < root.tree_size; start += 1000) {
    grpc::ClientContext context;
    trillian::GetLeavesByRangeRequest request;
    request.set_log_id(tree_id);
    request.set_start_index(start);
    request.set_count(1000);
    trillian::GetLeavesByRangeResponse response;
    ASSERT_TRUE(log->GetLeavesByRange(&context, request, &response).ok());
    for (const auto& leaf : response.leaves()) ++seen[leaf.leaf_value()];
  }
  EXPECT_EQ(seen.size(), root.tree_size);  // No leaf twice.
  size_t missing = 0;
  for (const std::string& v : acknowledged) {
    auto it = seen.find(v);
    if (it == seen.end())
      ++missing;
    else
      EXPECT_EQ(it->second, 1) << v;
  }
  EXPECT_EQ(missing, 0u);

  // What was signed before the crash is a prefix of what is signed now.
  if (before_crash.tree_size > 0) {
    grpc::ClientContext context;
    trillian::GetConsistencyProofRequest request;
    request.set_log_id(tree_id);
    request.set_first_tree_size(before_crash.tree_size);
    request.set_second_tree_size(root.tree_size);
    trillian::GetConsistencyProofResponse response;
    ASSERT_TRUE(log->GetConsistencyProof(&context, request, &response).ok());
    std::vector<std::string> proof(response.proof().hashes().begin(),
                                   response.proof().hashes().end());
    EXPECT_TRUE(
        merkle::VerifyConsistency(before_crash.tree_size, root.tree_size,
                                  before_crash.root_hash, root.root_hash, proof)
            .ok());
  }
  std::printf("acknowledged %zu leaves before SIGKILL; tree holds %llu\n",
              acknowledged.size(),
              static_cast<unsigned long long>(root.tree_size));
}

}  // namespace
}  // namespace trellis::testing
