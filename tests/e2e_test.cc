// End to end: real trellisd and trellis processes on loopback. Creates a
// tree with the CLI, appends thousands of leaves over gRPC and the CLI,
// verifies signatures and proofs, restarts the server and checks that
// nothing was lost and the new roots are consistent with the old ones.
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/time/clock.h"
#include "crypto/signer.h"
#include "gtest/gtest.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "merkle/verifier.h"
#include "tests/health.grpc.pb.h"
#include "tests/reflection.grpc.pb.h"
#include "tests/trellisd_process.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using nlohmann::json;

struct Root {
  trillian::SignedLogRoot signed_root;
  merkle::LogRootV1 root;
};

class E2ETest : public ::testing::Test {
 protected:
  Root LatestRoot(trillian::TrillianLog::Stub& log,
                  const trillian::Tree& tree) {
    grpc::ClientContext context;
    trillian::GetLatestSignedLogRootRequest request;
    request.set_log_id(tree.tree_id());
    trillian::GetLatestSignedLogRootResponse response;
    EXPECT_TRUE(log.GetLatestSignedLogRoot(&context, request, &response).ok());
    const auto& sr = response.signed_log_root();
    EXPECT_TRUE(crypto::VerifySignature(tree.public_key().der(), sr.log_root(),
                                        sr.log_root_signature())
                    .ok());
    return {sr, *merkle::ParseLogRoot(sr.log_root())};
  }

  Root WaitForSize(trillian::TrillianLog::Stub& log, const trillian::Tree& tree,
                   uint64_t size) {
    const absl::Time deadline = absl::Now() + absl::Seconds(60);
    for (;;) {
      Root r = LatestRoot(log, tree);
      if (r.root.tree_size >= size || absl::Now() > deadline) return r;
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  void ExpectConsistent(trillian::TrillianLog::Stub& log, int64_t tree_id,
                        const merkle::LogRootV1& a,
                        const merkle::LogRootV1& b) {
    grpc::ClientContext context;
    trillian::GetConsistencyProofRequest request;
    request.set_log_id(tree_id);
    request.set_first_tree_size(a.tree_size);
    request.set_second_tree_size(b.tree_size);
    trillian::GetConsistencyProofResponse response;
    ASSERT_TRUE(log.GetConsistencyProof(&context, request, &response).ok());
    std::vector<std::string> proof(response.proof().hashes().begin(),
                                   response.proof().hashes().end());
    EXPECT_TRUE(merkle::VerifyConsistency(a.tree_size, b.tree_size, a.root_hash,
                                          b.root_hash, proof)
                    .ok())
        << a.tree_size << " -> " << b.tree_size;
  }

  void ExpectIncluded(trillian::TrillianLog::Stub& log, int64_t tree_id,
                      const merkle::LogRootV1& root, int64_t index,
                      const std::string& value) {
    grpc::ClientContext context;
    trillian::GetInclusionProofRequest request;
    request.set_log_id(tree_id);
    request.set_leaf_index(index);
    request.set_tree_size(root.tree_size);
    trillian::GetInclusionProofResponse response;
    ASSERT_TRUE(log.GetInclusionProof(&context, request, &response).ok());
    std::vector<std::string> proof(response.proof().hashes().begin(),
                                   response.proof().hashes().end());
    EXPECT_TRUE(merkle::VerifyInclusion(index, root.tree_size,
                                        merkle::HashLeaf(value), proof,
                                        root.root_hash)
                    .ok())
        << index;
  }

  TempDir dir_;
};

TEST_F(E2ETest, AppendProveRestartStayConsistent) {
  const std::string data = dir_.path() + "/data";
  auto server = std::make_unique<TrellisdProcess>(data);

  // Health checking reports SERVING.
  {
    auto health = grpc::health::v1::Health::NewStub(server->Channel());
    grpc::ClientContext context;
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    ASSERT_TRUE(health->Check(&context, request, &response).ok());
    EXPECT_EQ(response.status(),
              grpc::health::v1::HealthCheckResponse::SERVING);
  }

  // Reflection lists the Trillian services (what grpcurl relies on).
  {
    auto reflection =
        grpc::reflection::v1alpha::ServerReflection::NewStub(server->Channel());
    grpc::ClientContext context;
    auto stream = reflection->ServerReflectionInfo(&context);
    grpc::reflection::v1alpha::ServerReflectionRequest request;
    request.set_list_services("*");
    ASSERT_TRUE(stream->Write(request));
    stream->WritesDone();
    grpc::reflection::v1alpha::ServerReflectionResponse response;
    ASSERT_TRUE(stream->Read(&response));
    std::set<std::string> services;
    for (const auto& s : response.list_services_response().service()) {
      services.insert(s.name());
    }
    EXPECT_TRUE(services.count("trillian.TrillianLog"));
    EXPECT_TRUE(services.count("trillian.TrillianAdmin"));
    EXPECT_TRUE(services.count("grpc.health.v1.Health"));
    while (stream->Read(&response)) {
    }
    EXPECT_TRUE(stream->Finish().ok());
  }

  // Create and initialise the tree with the CLI.
  CliResult created =
      RunCli({"--addr=" + server->address(), "tree", "create", "--name=e2e"});
  ASSERT_EQ(created.exit_code, 0) << created.out;
  const json tree_json = json::parse(created.out);
  const int64_t tree_id = std::stoll(tree_json["treeId"].get<std::string>());
  EXPECT_FALSE(tree_json.contains("privateKey"));

  auto admin = server->AdminStub();
  trillian::Tree tree;
  {
    grpc::ClientContext context;
    trillian::GetTreeRequest request;
    request.set_tree_id(tree_id);
    ASSERT_TRUE(admin->GetTree(&context, request, &tree).ok());
    EXPECT_FALSE(tree.has_private_key());
  }

  // 4,000 leaves over gRPC, in concurrent batches.
  auto log = server->LogStub();
  std::vector<std::string> values;
  for (int i = 0; i < 4000; ++i)
    values.push_back("grpc-leaf-" + std::to_string(i));
  {
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        auto stub = server->LogStub();
        for (int b = w; b < 8; b += 4) {
          trillian::QueueLeavesRequest request;
          request.set_log_id(tree_id);
          for (int i = b * 500; i < (b + 1) * 500; ++i) {
            request.add_leaves()->set_leaf_value(values[i]);
          }
          grpc::ClientContext context;
          trillian::QueueLeavesResponse response;
          ASSERT_TRUE(stub->QueueLeaves(&context, request, &response).ok());
          ASSERT_EQ(response.queued_leaves_size(), 500);
        }
      });
    }
    for (auto& w : writers) w.join();
  }
  const Root first = WaitForSize(*log, tree, 4000);
  ASSERT_EQ(first.root.tree_size, 4000u);

  // 1,000 more through the CLI (stdin, one per line), waiting for them.
  std::string lines;
  for (int i = 0; i < 1000; ++i)
    lines += "cli-leaf-" + std::to_string(i) + "\n";
  CliResult appended = RunCli({"--addr=" + server->address(), "log", "append",
                               std::to_string(tree_id), "--wait"},
                              lines);
  ASSERT_EQ(appended.exit_code, 0) << appended.out;
  EXPECT_EQ(json::parse(appended.out)["queued"], 1000);
  const Root second = WaitForSize(*log, tree, 5000);
  ASSERT_EQ(second.root.tree_size, 5000u);
  ExpectConsistent(*log, tree_id, first.root, second.root);

  // Every gRPC leaf is where the log says, with a valid proof.
  std::map<std::string, int64_t> index_of;
  for (int64_t start = 0; start < 5000; start += 1000) {
    grpc::ClientContext context;
    trillian::GetLeavesByRangeRequest request;
    request.set_log_id(tree_id);
    request.set_start_index(start);
    request.set_count(1000);
    trillian::GetLeavesByRangeResponse response;
    ASSERT_TRUE(log->GetLeavesByRange(&context, request, &response).ok());
    ASSERT_EQ(response.leaves_size(), 1000);
    for (const auto& leaf : response.leaves()) {
      EXPECT_TRUE(
          index_of.emplace(leaf.leaf_value(), leaf.leaf_index()).second);
    }
  }
  EXPECT_EQ(index_of.size(), 5000u);
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    const std::string& v = values[rng() % values.size()];
    ExpectIncluded(*log, tree_id, second.root, index_of.at(v), v);
  }

  // The CLI proves and an auditor verifies offline.
  CliResult proof = RunCli({"--addr=" + server->address(), "log", "prove",
                            std::to_string(tree_id), "--value=cli-leaf-17"});
  ASSERT_EQ(proof.exit_code, 0) << proof.out;
  EXPECT_EQ(RunCli({"verify-proof", "-"}, proof.out).exit_code, 0);
  json tampered = json::parse(proof.out);
  tampered["leafIdx"] = tampered["leafIdx"].get<int64_t>() + 1;
  EXPECT_EQ(RunCli({"verify-proof", "-"}, tampered.dump()).exit_code, 1);
  CliResult old_root = RunCli(
      {"--addr=" + server->address(), "log", "root", std::to_string(tree_id)});
  ASSERT_EQ(old_root.exit_code, 0);
  const std::string old_root_file = dir_.path() + "/old_root.json";
  std::ofstream(old_root_file) << old_root.out;

  // Clean restart: nothing lost, and the log grows consistently.
  ASSERT_EQ(server->Stop(), 0);
  server = std::make_unique<TrellisdProcess>(data);
  log = server->LogStub();
  const Root after_restart = LatestRoot(*log, tree);
  EXPECT_EQ(after_restart.root.tree_size, 5000u);
  EXPECT_EQ(after_restart.root.root_hash, second.root.root_hash);
  {
    trillian::QueueLeavesRequest request;
    request.set_log_id(tree_id);
    for (int i = 0; i < 777; ++i) {
      request.add_leaves()->set_leaf_value("after-restart-" +
                                           std::to_string(i));
    }
    request.add_leaves()->set_leaf_value(values[0]);  // A duplicate.
    grpc::ClientContext context;
    trillian::QueueLeavesResponse response;
    ASSERT_TRUE(log->QueueLeaves(&context, request, &response).ok());
    EXPECT_EQ(response.queued_leaves(777).status().code(),
              static_cast<int>(grpc::StatusCode::ALREADY_EXISTS));
    EXPECT_EQ(response.queued_leaves(777).leaf().leaf_index(),
              index_of.at(values[0]));
  }
  const Root third = WaitForSize(*log, tree, 5777);
  EXPECT_EQ(third.root.tree_size, 5777u);
  EXPECT_GT(third.root.revision, second.root.revision);
  ExpectConsistent(*log, tree_id, first.root, third.root);
  ExpectConsistent(*log, tree_id, second.root, third.root);
  ExpectIncluded(*log, tree_id, third.root, 5776, "after-restart-776");

  CliResult consistency =
      RunCli({"--addr=" + server->address(), "log", "consistency",
              std::to_string(tree_id), "--since=" + old_root_file});
  ASSERT_EQ(consistency.exit_code, 0) << consistency.out;
  EXPECT_EQ(RunCli({"verify-proof", "-"}, consistency.out).exit_code, 0);
  EXPECT_EQ(server->Stop(), 0);
}

// Concurrent one-leaf calls are written together (log/queue_coalescer.h):
// each caller still gets its own leaf back, a value sent by many callers is
// queued once, and nothing is lost or doubled.
TEST_F(E2ETest, ConcurrentSingleLeafCallsEachGetTheirOwnAnswer) {
  TrellisdProcess server(dir_.path() + "/data");
  CliResult created =
      RunCli({"--addr=" + server.address(), "tree", "create", "--name=single"});
  ASSERT_EQ(created.exit_code, 0) << created.out;
  const int64_t tree_id =
      std::stoll(json::parse(created.out)["treeId"].get<std::string>());
  constexpr int kWriters = 32, kOwn = 25, kShared = 5;
  std::vector<std::map<std::string, grpc::StatusCode>> answers(kWriters);
  std::vector<std::map<std::string, std::string>> echoed(kWriters);
  {
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        auto stub = server.LogStub();
        for (int i = 0; i < kOwn + kShared; ++i) {
          // Every writer sends the shared values, interleaved with its own.
          const std::string value =
              i % 6 == 5 ? "shared-" + std::to_string(i / 6)
                         : "own-" + std::to_string(w) + "-" + std::to_string(i);
          trillian::QueueLeafRequest request;
          request.set_log_id(tree_id);
          request.mutable_leaf()->set_leaf_value(value);
          grpc::ClientContext context;
          trillian::QueueLeafResponse response;
          grpc::Status status = stub->QueueLeaf(&context, request, &response);
          answers[w][value] = status.ok()
                                  ? static_cast<grpc::StatusCode>(
                                        response.queued_leaf().status().code())
                                  : status.error_code();
          echoed[w][value] = response.queued_leaf().leaf().leaf_value();
        }
      });
    }
    for (auto& w : writers) w.join();
  }
  std::map<std::string, int> queued_by;
  for (int w = 0; w < kWriters; ++w) {
    ASSERT_EQ(answers[w].size(), static_cast<size_t>(kOwn + kShared));
    for (const auto& [value, code] : answers[w]) {
      EXPECT_EQ(echoed[w].at(value), value);
      if (value.rfind("own-", 0) == 0) {
        EXPECT_EQ(code, grpc::StatusCode::OK) << value;
      } else {
        EXPECT_TRUE(code == grpc::StatusCode::OK ||
                    code == grpc::StatusCode::ALREADY_EXISTS)
            << value << ": " << code;
      }
      if (code == grpc::StatusCode::OK) ++queued_by[value];
    }
  }
  for (int i = 0; i < kShared; ++i) {
    EXPECT_EQ(queued_by["shared-" + std::to_string(i)], 1) << i;
  }

  const uint64_t distinct = kWriters * kOwn + kShared;
  trillian::Tree tree;
  {
    grpc::ClientContext context;
    trillian::GetTreeRequest request;
    request.set_tree_id(tree_id);
    ASSERT_TRUE(server.AdminStub()->GetTree(&context, request, &tree).ok());
  }
  auto log = server.LogStub();
  const Root root = WaitForSize(*log, tree, distinct);
  ASSERT_EQ(root.root.tree_size, distinct);
  std::set<std::string> in_tree;
  for (uint64_t start = 0; start < distinct;) {
    grpc::ClientContext context;
    trillian::GetLeavesByRangeRequest request;
    request.set_log_id(tree_id);
    request.set_start_index(start);
    request.set_count(distinct - start);
    trillian::GetLeavesByRangeResponse response;
    ASSERT_TRUE(log->GetLeavesByRange(&context, request, &response).ok());
    ASSERT_GT(response.leaves_size(), 0);
    for (const auto& leaf : response.leaves()) {
      in_tree.insert(leaf.leaf_value());
    }
    start += response.leaves_size();
  }
  EXPECT_EQ(in_tree.size(), distinct);
  EXPECT_EQ(in_tree, [&] {
    std::set<std::string> sent;
    for (const auto& by_writer : answers) {
      for (const auto& [value, code] : by_writer) sent.insert(value);
    }
    return sent;
  }());
}

TEST_F(E2ETest, TreeLifecycleThroughTheCli) {
  TrellisdProcess server(dir_.path() + "/data");
  const std::string addr = "--addr=" + server.address();
  CliResult created = RunCli({addr, "tree", "create", "--key_type=ed25519",
                              "--type=PREORDERED_LOG", "--init=false"});
  ASSERT_EQ(created.exit_code, 0);
  const std::string id = json::parse(created.out)["treeId"];
  EXPECT_EQ(json::parse(created.out)["signatureAlgorithm"], "ED25519");
  CliResult updated =
      RunCli({addr, "tree", "update", id, "--state=FROZEN", "--name=renamed"});
  ASSERT_EQ(updated.exit_code, 0);
  EXPECT_EQ(json::parse(updated.out)["treeState"], "FROZEN");
  EXPECT_EQ(RunCli({addr, "tree", "delete", id}).exit_code, 0);
  EXPECT_EQ(RunCli({addr, "tree", "delete", id}).exit_code, 1);
  EXPECT_EQ(json::parse(RunCli({addr, "tree", "list"}).out).size(), 0u);
  EXPECT_EQ(json::parse(RunCli({addr, "tree", "list", "--deleted"}).out)["tree"]
                .size(),
            1u);
  EXPECT_EQ(RunCli({addr, "tree", "undelete", id}).exit_code, 0);
  EXPECT_EQ(RunCli({addr, "tree", "get", "12345"}).exit_code, 1);
  EXPECT_EQ(RunCli({"verify-proof", "/nonexistent.json"}).exit_code, 2);
}

}  // namespace
}  // namespace trellis::testing
