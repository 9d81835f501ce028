// The browser explorer's JSON API on a real trellisd: trees with the keys
// and policies the pages pin, map leaves whose proofs verify with Trellis'
// own map verifier under the tree's signature, evidence only when the
// operator enables it, and clear refusals (400, 403, 404) for bad requests.
#include <httplib.h>

#include <nlohmann/json.hpp>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/signer.h"
#include "gtest/gtest.h"
#include "map/hasher.h"
#include "map/map_root.h"
#include "map/verifier.h"
#include "merkle/hasher.h"
#include "tests/trellisd_process.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using nlohmann::json;

struct Answer {
  int status = 0;
  json body;
};

Answer Get(int port, const std::string& path) {
  httplib::Client client("127.0.0.1", port);
  httplib::Result result = client.Get(path);
  if (!result) return {};
  return {result->status, json::parse(result->body, nullptr, false)};
}

std::string Unbase64(const json& text) {
  std::string out;
  EXPECT_TRUE(text.is_string() &&
              absl::Base64Unescape(text.get<std::string>(), &out));
  return out;
}

int64_t CreateTree(const TrellisdProcess& server,
                   const std::vector<std::string>& flags) {
  std::vector<std::string> args = {"--addr=" + server.address(), "tree",
                                   "create"};
  args.insert(args.end(), flags.begin(), flags.end());
  CliResult result = RunCli(args);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  return std::stoll(json::parse(result.out)["treeId"].get<std::string>());
}

TEST(ExplorerApiTest, MapLeavesProveUnderTheTreesKey) {
  TempDir dir;
  TrellisdProcess server(dir.path() + "/data",
                         std::vector<std::string>{"--explorer_maps"});
  const int port = server.tlog_port();
  const int64_t log_id = CreateTree(server, {});
  const int64_t map_id = CreateTree(server, {"--type=MAP"});
  CliResult set = RunCli(
      {"--addr=" + server.address(), "map", "set", std::to_string(map_id)},
      "alice=one\nbob=two\nempty=\n");
  ASSERT_EQ(set.exit_code, 0) << set.out << set.err;

  // The trees: a map's key and hash strategy, a log's (empty) policy.
  const Answer trees = Get(port, "/explorer/api/trees");
  ASSERT_EQ(trees.status, 200);
  json map_tree, log_tree;
  for (const json& tree : trees.body["trees"]) {
    if (tree["treeId"] == std::to_string(map_id)) map_tree = tree;
    if (tree["treeId"] == std::to_string(log_id)) log_tree = tree;
  }
  ASSERT_TRUE(map_tree.is_object() && log_tree.is_object()) << trees.body;
  EXPECT_EQ(map_tree["hashStrategy"], "CONIKS_SHA256");
  EXPECT_EQ(log_tree["witnessPolicy"], "");
  const std::string public_key = Unbase64(map_tree["publicKey"]);

  auto hasher = map::NewMapHasher(trillian::CONIKS_SHA256);
  ASSERT_TRUE(hasher.ok());
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{
           {"alice", "one"}, {"bob", "two"}, {"empty", ""}, {"nobody", ""}}) {
    const std::string index = merkle::Sha256(name);
    const Answer leaf =
        Get(port, absl::StrCat("/explorer/api/maps/", map_id, "/leaves/",
                               absl::BytesToHexString(index)));
    ASSERT_EQ(leaf.status, 200) << leaf.body;
    EXPECT_EQ(Unbase64(leaf.body["index"]), index);
    EXPECT_EQ(Unbase64(leaf.body["leafValue"]), value);
    // Set leaves have a hash, even with an empty value; unset ones none.
    const std::string leaf_hash = Unbase64(leaf.body["leafHash"]);
    EXPECT_EQ(leaf_hash.empty(), name == "nobody") << name;
    const std::string map_root = Unbase64(leaf.body["mapRoot"]);
    EXPECT_TRUE(crypto::VerifySignature(public_key, map_root,
                                        Unbase64(leaf.body["signature"]))
                    .ok());
    absl::StatusOr<map::MapRootV1> root = map::ParseMapRoot(map_root);
    ASSERT_TRUE(root.ok());
    EXPECT_EQ(root->revision, 1u);
    std::vector<std::string> proof;
    for (const json& sibling : leaf.body["proof"]) {
      proof.push_back(Unbase64(sibling));
    }
    trillian::MapLeaf map_leaf;
    map_leaf.set_index(index);
    map_leaf.set_leaf_value(value);
    map_leaf.set_leaf_hash(leaf_hash);
    if (!leaf_hash.empty()) {
      EXPECT_EQ(leaf_hash, (*hasher)->HashLeaf(map_id, index, value));
    }
    EXPECT_TRUE(map::VerifyMapInclusion(**hasher, map_id, map_leaf, proof,
                                        root->root_hash)
                    .ok())
        << name;
  }

  // Refusals: a log is no map, unknown trees and revisions, bad numbers,
  // indices that are not 64 hex digits.
  const std::string zero(64, '0');
  const Answer log_as_map =
      Get(port, absl::StrCat("/explorer/api/maps/", log_id, "/leaves/", zero));
  EXPECT_EQ(log_as_map.status, 404);
  EXPECT_EQ(log_as_map.body["error"],
            absl::StrCat("tree ", log_id, " is not a map"));
  EXPECT_EQ(
      Get(port, absl::StrCat("/explorer/api/maps/12345/leaves/", zero)).status,
      404);
  EXPECT_EQ(Get(port, absl::StrCat("/explorer/api/maps/", map_id, "/leaves/",
                                   zero, "?revision=9"))
                .status,
            404);
  const Answer bad_revision =
      Get(port, absl::StrCat("/explorer/api/maps/", map_id, "/leaves/", zero,
                             "?revision=-1"));
  EXPECT_EQ(bad_revision.status, 400);
  EXPECT_EQ(bad_revision.body["error"],
            "revision must be a non-negative integer");
  EXPECT_EQ(Get(port, absl::StrCat("/explorer/api/maps/", map_id, "/leaves/",
                                   zero.substr(1)))
                .status,
            404);
  const Answer at_zero =
      Get(port, absl::StrCat("/explorer/api/maps/", map_id, "/leaves/", zero,
                             "?revision=0"));
  EXPECT_EQ(at_zero.status, 200);
  EXPECT_EQ(at_zero.body["leafValue"], "");
}

TEST(ExplorerApiTest, EvidenceAndOtherMapsOnlyWhenTheOperatorEnablesThem) {
  TempDir dir;
  const std::string digest(64, 'a');
  {
    TrellisdProcess server(dir.path() + "/off");
    // A map named as the identity map is not it.
    const int64_t map_id =
        CreateTree(server, {"--type=MAP", "--name=trellis-identities"});
    const Answer hidden =
        Get(server.tlog_port(),
            absl::StrCat("/explorer/api/maps/", map_id, "/leaves/", digest));
    EXPECT_EQ(hidden.status, 403);
    EXPECT_NE(hidden.body.value("error", "").find("--explorer_maps"),
              std::string::npos)
        << hidden.body;
    const Answer refused =
        Get(server.tlog_port(), "/explorer/api/evidence/" + digest);
    EXPECT_EQ(refused.status, 403);
    EXPECT_NE(refused.body.value("error", "").find("--explorer_evidence"),
              std::string::npos)
        << refused.body;
  }
  TrellisdProcess server(dir.path() + "/on",
                         std::vector<std::string>{"--explorer_evidence"});
  const Answer missing =
      Get(server.tlog_port(), "/explorer/api/evidence/" + digest);
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.body["error"], "no such evidence");
  EXPECT_EQ(Get(server.tlog_port(), "/explorer/api/evidence/xyz").status, 404);
}

}  // namespace
}  // namespace trellis::testing
