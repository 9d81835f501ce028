// End to end for the map: real trellisd and trellis processes. Writes 10,000
// leaves over several revisions with gRPC and the CLI, verifies proofs
// offline (current and old revisions, present and absent keys), checks that
// every signed map root landed in the history log in order, and that a
// restart keeps every revision.
#include <nlohmann/json.hpp>

#include "absl/time/clock.h"
#include "crypto/signer.h"
#include "gtest/gtest.h"
#include "map/hasher.h"
#include "map/map_root.h"
#include "map/verifier.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "tests/trellisd_process.h"
#include "trillian_map_api.grpc.pb.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using nlohmann::json;

int64_t CreateTree(const std::string& addr, std::vector<std::string> flags) {
  std::vector<std::string> args = {"--addr=" + addr, "tree", "create"};
  args.insert(args.end(), flags.begin(), flags.end());
  CliResult result = RunCli(args);
  EXPECT_EQ(result.exit_code, 0) << result.out;
  return std::stoll(json::parse(result.out)["treeId"].get<std::string>());
}

TEST(MapE2ETest, TenThousandLeavesProvenOfflineWithHistory) {
  TempDir dir;
  const std::string data = dir.path() + "/data";
  auto server = std::make_unique<TrellisdProcess>(data);
  const std::string addr = server->address();
  const int64_t log_id = CreateTree(addr, {});
  const int64_t map_id = CreateTree(
      addr, {"--type=MAP", "--history_log=" + std::to_string(log_id)});

  // 5 revisions of 2,000 leaves over gRPC (WriteLeaves), each overwriting
  // 100 leaves of the previous one.
  auto map_write = trillian::TrillianMapWrite::NewStub(server->Channel());
  auto map = trillian::TrillianMap::NewStub(server->Channel());
  auto key = [](int i) { return merkle::Sha256("key-" + std::to_string(i)); };
  for (int r = 1; r <= 5; ++r) {
    trillian::WriteMapLeavesRequest request;
    request.set_map_id(map_id);
    request.set_expect_revision(r);
    request.set_metadata("rev" + std::to_string(r));
    const int first = (r - 1) * 2000;
    for (int i = std::max(0, first - 100); i < first + 2000 - (r > 1 ? 100 : 0);
         ++i) {
      trillian::MapLeaf* leaf = request.add_leaves();
      leaf->set_index(key(i));
      leaf->set_leaf_value("r" + std::to_string(r) + "-" + std::to_string(i));
    }
    grpc::ClientContext context;
    trillian::WriteMapLeavesResponse response;
    ASSERT_TRUE(map_write->WriteLeaves(&context, request, &response).ok());
    EXPECT_EQ(response.revision(), r);
  }
  // One more revision through the CLI (stdin, KEY=VALUE).
  CliResult set =
      RunCli({"--addr=" + addr, "map", "set", std::to_string(map_id)},
             "alice=one\nbob=two\n");
  ASSERT_EQ(set.exit_code, 0) << set.out;
  EXPECT_EQ(json::parse(set.out)["revision"], 6);

  // The CLI's proofs verify offline; tampering is caught.
  for (const char* k : {"alice", "nobody"}) {
    CliResult got =
        RunCli({"--addr=" + addr, "map", "get", std::to_string(map_id), k});
    ASSERT_EQ(got.exit_code, 0) << got.out;
    EXPECT_EQ(RunCli({"verify-map-proof", "-"}, got.out).exit_code, 0);
    json tampered = json::parse(got.out);
    tampered["leafValue"] = "Zm9yZ2Vk";  // "forged"
    EXPECT_EQ(RunCli({"verify-map-proof", "-"}, tampered.dump()).exit_code, 1);
  }
  EXPECT_EQ(RunCli({"verify-map-proof", "-"}, "{\"kind\":\"map\"}").exit_code,
            2);

  // gRPC reads at every revision: values as written then, proofs verify.
  trillian::GetTreeRequest get_tree;
  get_tree.set_tree_id(map_id);
  trillian::Tree tree;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(server->AdminStub()->GetTree(&context, get_tree, &tree).ok());
  }
  auto hasher = map::NewMapHasher(tree.hash_strategy());
  ASSERT_TRUE(hasher.ok());
  for (int r = 0; r <= 6; ++r) {
    trillian::GetMapLeavesByRevisionRequest request;
    request.set_map_id(map_id);
    request.set_revision(r);
    for (int i : {0, 1950, 1999, 2500, 9899, 20000})
      *request.add_index() = key(i);
    grpc::ClientContext context;
    trillian::GetMapLeavesResponse response;
    ASSERT_TRUE(map->GetLeavesByRevision(&context, request, &response).ok());
    ASSERT_TRUE(crypto::VerifySignature(tree.public_key().der(),
                                        response.map_root().map_root(),
                                        response.map_root().signature())
                    .ok());
    const auto root = map::ParseMapRoot(response.map_root().map_root());
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(root->revision, static_cast<uint64_t>(r));
    for (const auto& inclusion : response.map_leaf_inclusion()) {
      std::vector<std::string> proof(inclusion.inclusion().begin(),
                                     inclusion.inclusion().end());
      EXPECT_TRUE(map::VerifyMapInclusion(**hasher, map_id, inclusion.leaf(),
                                          proof, root->root_hash)
                      .ok());
    }
    // Key 1950 was set at revision 1 and overwritten at revision 2.
    const std::string& v1950 =
        response.map_leaf_inclusion(1).leaf().leaf_value();
    EXPECT_EQ(v1950, r == 0 ? "" : r == 1 ? "r1-1950" : "r2-1950");
    EXPECT_TRUE(response.map_leaf_inclusion(5).leaf().leaf_value().empty());
  }

  // Every signed root, revisions 0..6, is in the history log in order.
  auto log = server->LogStub();
  std::vector<trillian::LogLeaf> history;
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (history.size() < 7 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(50));
    grpc::ClientContext context;
    trillian::GetLeavesByRangeRequest request;
    request.set_log_id(log_id);
    request.set_count(100);
    trillian::GetLeavesByRangeResponse response;
    ASSERT_TRUE(log->GetLeavesByRange(&context, request, &response).ok());
    history.assign(response.leaves().begin(), response.leaves().end());
  }
  ASSERT_EQ(history.size(), 7u);
  for (int r = 0; r <= 6; ++r) {
    trillian::SignedMapRoot logged;
    ASSERT_TRUE(logged.ParseFromString(history[r].leaf_value()));
    EXPECT_EQ(map::ParseMapRoot(logged.map_root())->revision,
              static_cast<uint64_t>(r));
    EXPECT_TRUE(crypto::VerifySignature(tree.public_key().der(),
                                        logged.map_root(), logged.signature())
                    .ok());
    grpc::ClientContext context;
    trillian::GetSignedMapRootByRevisionRequest request;
    request.set_map_id(map_id);
    request.set_revision(r);
    trillian::GetSignedMapRootResponse response;
    ASSERT_TRUE(
        map->GetSignedMapRootByRevision(&context, request, &response).ok());
    EXPECT_EQ(response.map_root().map_root(), logged.map_root());
  }

  // Restart: every revision is still there and the map keeps growing.
  ASSERT_EQ(server->Stop(), 0);
  server = std::make_unique<TrellisdProcess>(data);
  CliResult old_root = RunCli({"--addr=" + server->address(), "map", "root",
                               std::to_string(map_id), "--revision=3"});
  ASSERT_EQ(old_root.exit_code, 0);
  EXPECT_EQ(json::parse(old_root.out)["revision"], 3);
  CliResult again = RunCli({"--addr=" + server->address(), "map", "set",
                            std::to_string(map_id), "carol=three"});
  ASSERT_EQ(again.exit_code, 0) << again.out;
  EXPECT_EQ(json::parse(again.out)["revision"], 7);
  CliResult old_get = RunCli({"--addr=" + server->address(), "map", "get",
                              std::to_string(map_id), "alice", "--revision=5"});
  ASSERT_EQ(old_get.exit_code, 0);
  EXPECT_EQ(json::parse(old_get.out)["leafValue"], "");  // Set at 6.
  EXPECT_EQ(RunCli({"verify-map-proof", "-"}, old_get.out).exit_code, 0);
}

TEST(MapE2ETest, BadMapRequestsGetCleanStatuses) {
  TempDir dir;
  TrellisdProcess server(dir.path() + "/data");
  const int64_t log_id = CreateTree(server.address(), {});
  const int64_t map_id = CreateTree(server.address(), {"--type=MAP"});
  auto map = trillian::TrillianMap::NewStub(server.Channel());
  auto call = [&](const trillian::SetMapLeavesRequest& request) {
    grpc::ClientContext context;
    trillian::SetMapLeavesResponse response;
    return map->SetLeaves(&context, request, &response).error_code();
  };
  trillian::SetMapLeavesRequest request;
  request.set_map_id(map_id);
  request.set_revision(1);
  request.add_leaves()->set_index("short");
  EXPECT_EQ(call(request), grpc::StatusCode::INVALID_ARGUMENT);
  request.mutable_leaves(0)->set_index(std::string(32, 'a'));
  *request.add_leaves() = request.leaves(0);
  EXPECT_EQ(call(request), grpc::StatusCode::INVALID_ARGUMENT);  // Duplicate.
  request.mutable_leaves()->RemoveLast();
  request.set_revision(0);
  EXPECT_EQ(call(request), grpc::StatusCode::FAILED_PRECONDITION);
  request.set_revision(2);
  EXPECT_EQ(call(request), grpc::StatusCode::FAILED_PRECONDITION);
  request.set_map_id(log_id);
  request.set_revision(1);
  EXPECT_EQ(call(request), grpc::StatusCode::INVALID_ARGUMENT);
  request.set_map_id(map_id + 1);
  EXPECT_EQ(call(request), grpc::StatusCode::NOT_FOUND);

  grpc::ClientContext context;
  trillian::GetMapLeafByRevisionRequest read;
  read.set_map_id(map_id);
  read.set_index(std::string(32, 'a'));
  read.set_revision(9);
  trillian::GetMapLeafResponse read_response;
  EXPECT_EQ(map->GetLeafByRevision(&context, read, &read_response).error_code(),
            grpc::StatusCode::NOT_FOUND);
  grpc::ClientContext context2;
  read.set_revision(-1);
  EXPECT_EQ(
      map->GetLeafByRevision(&context2, read, &read_response).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
  // Nothing was written: the map is still at revision 0.
  grpc::ClientContext context3;
  trillian::GetSignedMapRootRequest root_request;
  root_request.set_map_id(map_id);
  trillian::GetSignedMapRootResponse root;
  ASSERT_TRUE(map->GetSignedMapRoot(&context3, root_request, &root).ok());
  EXPECT_EQ(map::ParseMapRoot(root.map_root().map_root())->revision, 0u);
}

}  // namespace
}  // namespace trellis::testing
