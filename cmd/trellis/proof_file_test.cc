#include "cmd/trellis/proof_file.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "merkle/hasher.h"
#include "merkle/reference_tree.h"

namespace trellis::cli {
namespace {

TEST(ProofFileTest, RoundTripsAndVerifies) {
  merkle::ReferenceTree ref(merkle::NumberedLeafHashes(20));
  ProofFile inclusion;
  inclusion.kind = ProofFile::Kind::kInclusion;
  inclusion.leaf_index = 5;
  inclusion.tree_size = 17;
  inclusion.leaf_hash = merkle::HashLeaf("leaf-5");
  inclusion.root = ref.Root(17);
  inclusion.proof = ref.InclusionProof(5, 17);
  auto parsed = ParseProofFile(ToJson(inclusion));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(VerifyProofFile(*parsed).ok());
  parsed->leaf_index = 6;
  EXPECT_FALSE(VerifyProofFile(*parsed).ok());

  ProofFile consistency;
  consistency.kind = ProofFile::Kind::kConsistency;
  consistency.size1 = 7;
  consistency.size2 = 19;
  consistency.root1 = ref.Root(7);
  consistency.root2 = ref.Root(19);
  consistency.proof = ref.ConsistencyProof(7, 19);
  parsed = ParseProofFile(ToJson(consistency));
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(VerifyProofFile(*parsed).ok());
  std::swap(parsed->root1, parsed->root2);
  EXPECT_FALSE(VerifyProofFile(*parsed).ok());
}

TEST(ProofFileTest, RefusesUnusableInput) {
  const std::string root = absl::Base64Escape(std::string(32, 'r'));
  for (
      const std::string& bad : std::vector<std::string>{
          "",
          "garbage",
          "[]",
          "{}",
          R"({"kind":"other","proof":[]})",
          R"({"kind":"inclusion","leafIdx":-1,"treeSize":2,"leafHash":")" +
              root + R"(","root":")" + root + R"(","proof":[]})",
          R"({"kind":"inclusion","leafIdx":"1","treeSize":2,"leafHash":")" +
              root + R"(","root":")" + root + R"(","proof":[]})",
          R"({"kind":"inclusion","leafIdx":1,"treeSize":2,"leafHash":"@@@","root":")" +
              root + R"(","proof":[]})",
          R"({"kind":"consistency","size1":1,"size2":2,"root1":")" + root +
              R"(","root2":")" + root + R"(","proof":"x"})",
          R"({"kind":"consistency","size1":1,"size2":2,"root1":")" + root +
              R"(","root2":")" + root + R"(","proof":[7]})",
          R"({"kind":"consistency","size1":1,"size2":2,"root1":")" + root +
              R"(","root2":")" + root + R"(","proof":{}})",
          R"({"kind":"consistency","size1":1,"size2":2,"root1":")" + root +
              R"(","root2":")" + root + R"(","proof":false})",
          R"({"kind":"consistency","size1":1,"size2":2,"root1":")" + root +
              R"(","root2":")" + root + R"("})",
      }) {
    EXPECT_EQ(ParseProofFile(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

// Go tools write a nil slice as null: an empty proof, e.g. for a
// single-leaf tree.
TEST(ProofFileTest, NullProofIsEmpty) {
  const std::string leaf = absl::Base64Escape(merkle::HashLeaf("only"));
  absl::StatusOr<ProofFile> parsed = ParseProofFile(
      R"({"kind":"inclusion","leafIdx":0,"treeSize":1,"leafHash":")" + leaf +
      R"(","root":")" + leaf + R"(","proof":null})");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_TRUE(parsed->proof.empty());
  EXPECT_TRUE(VerifyProofFile(*parsed).ok());
}

}  // namespace
}  // namespace trellis::cli
