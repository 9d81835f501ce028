// The verifier must accept exactly the proofs RFC 9162 defines: every
// mutation of a valid proof is rejected.
#include "merkle/verifier.h"

#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "merkle/reference_tree.h"

namespace trellis::merkle {
namespace {

class VerifierTest : public ::testing::Test {
 protected:
  VerifierTest() : leaves_(NumberedLeafHashes(66)), ref_(leaves_) {}
  std::vector<std::string> leaves_;
  ReferenceTree ref_;
};

TEST_F(VerifierTest, InclusionRejectsEveryMutation) {
  for (uint64_t size = 1; size <= 64; ++size) {
    const std::string root = ref_.Root(size);
    for (uint64_t index = 0; index < size; ++index) {
      const std::vector<std::string> proof = ref_.InclusionProof(index, size);
      const std::string& leaf = leaves_[index];
      ASSERT_TRUE(VerifyInclusion(index, size, leaf, proof, root).ok());

      // Wrong leaf, index, size or root.
      EXPECT_FALSE(
          VerifyInclusion(index, size, leaves_[(index + 1) % 64], proof, root)
              .ok());
      if (size > 1) {
        EXPECT_FALSE(
            VerifyInclusion((index + 1) % size, size, leaf, proof, root).ok());
      }
      // (A different size with the same proof can be valid too: RFC 9162
      // proofs bind the size only through the path's shape.)
      if (ref_.InclusionProof(index, size + 1).size() != proof.size()) {
        EXPECT_FALSE(VerifyInclusion(index, size + 1, leaf, proof, root).ok());
      }
      EXPECT_FALSE(
          VerifyInclusion(index, size, leaf, proof, ref_.Root(size + 1)).ok());
      EXPECT_FALSE(VerifyInclusion(size, size, leaf, proof, root).ok());
      // Each element flipped, dropped; an extra element appended.
      for (size_t i = 0; i < proof.size(); ++i) {
        std::vector<std::string> p = proof;
        p[i][0] ^= 0x01;
        EXPECT_FALSE(VerifyInclusion(index, size, leaf, p, root).ok());
        p = proof;
        p.erase(p.begin() + i);
        EXPECT_FALSE(VerifyInclusion(index, size, leaf, p, root).ok());
        p = proof;
        p[i].push_back('x');
        EXPECT_EQ(VerifyInclusion(index, size, leaf, p, root).code(),
                  absl::StatusCode::kInvalidArgument);
      }
      for (size_t i = 0; i + 1 < proof.size(); ++i) {
        std::vector<std::string> p = proof;
        if (p[i] == p[i + 1]) continue;
        std::swap(p[i], p[i + 1]);
        EXPECT_FALSE(VerifyInclusion(index, size, leaf, p, root).ok());
      }
      std::vector<std::string> longer = proof;
      longer.push_back(leaf);
      EXPECT_FALSE(VerifyInclusion(index, size, leaf, longer, root).ok());
    }
  }
}

TEST_F(VerifierTest, ConsistencyRejectsEveryMutation) {
  for (uint64_t size2 = 1; size2 <= 64; ++size2) {
    const std::string root2 = ref_.Root(size2);
    for (uint64_t size1 = 1; size1 <= size2; ++size1) {
      const std::string root1 = ref_.Root(size1);
      const std::vector<std::string> proof =
          ref_.ConsistencyProof(size1, size2);
      ASSERT_TRUE(VerifyConsistency(size1, size2, root1, root2, proof).ok());
      EXPECT_FALSE(
          VerifyConsistency(size1, size2, ref_.Root(size2 + 1), root2, proof)
              .ok());
      EXPECT_FALSE(
          VerifyConsistency(size1, size2, root1, ref_.Root(size2 + 1), proof)
              .ok());
      if (size1 > 1) {
        EXPECT_FALSE(
            VerifyConsistency(size1 - 1, size2, root1, root2, proof).ok());
      }
      if (ref_.ConsistencyProof(size1, size2 + 1).size() != proof.size()) {
        EXPECT_FALSE(
            VerifyConsistency(size1, size2 + 1, root1, root2, proof).ok());
      }
      for (size_t i = 0; i < proof.size(); ++i) {
        std::vector<std::string> p = proof;
        p[i][5] ^= 0x80;
        EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, p).ok());
        p = proof;
        p.erase(p.begin() + i);
        EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, p).ok());
      }
      for (size_t i = 0; i + 1 < proof.size(); ++i) {
        std::vector<std::string> p = proof;
        if (p[i] == p[i + 1]) continue;
        std::swap(p[i], p[i + 1]);
        EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, p).ok());
      }
      std::vector<std::string> longer = proof;
      longer.push_back(root1);
      EXPECT_FALSE(VerifyConsistency(size1, size2, root1, root2, longer).ok());
    }
  }
}

TEST_F(VerifierTest, RejectsSizeZeroAndGarbage) {
  const std::string root = ref_.Root(8);
  EXPECT_EQ(VerifyConsistency(0, 8, EmptyRoot(), root, {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(9, 8, root, root, {}).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(0, 0, leaves_[0], {}, EmptyRoot()).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      VerifyInclusion(0, 8, "short", ref_.InclusionProof(0, 8), root).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      VerifyInclusion(0, 8, leaves_[0], ref_.InclusionProof(0, 8), "garbage")
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(
      VerifyInclusion(0, 8, leaves_[0], {"garbage", "", "x"}, root).ok());
  // Equal sizes: empty proof and equal roots only.
  EXPECT_TRUE(VerifyConsistency(8, 8, root, root, {}).ok());
  EXPECT_FALSE(VerifyConsistency(8, 8, root, ref_.Root(7), {}).ok());
  EXPECT_FALSE(VerifyConsistency(8, 8, root, root, {root}).ok());
  // Equal sizes compare bytes before any length check (transparency-dev/merkle
  // vector consistency/additional/sizes-are-equal-one-and-proof-is-empty).
  EXPECT_TRUE(VerifyConsistency(1, 1, "don't care 2", "don't care 2", {}).ok());
  EXPECT_FALSE(
      VerifyConsistency(1, 1, "don't care 1", "don't care 2", {}).ok());
  // A non-trivial consistency with an empty proof.
  EXPECT_FALSE(VerifyConsistency(3, 8, ref_.Root(3), root, {}).ok());
  // A single-leaf tree needs an empty inclusion proof.
  EXPECT_TRUE(VerifyInclusion(0, 1, leaves_[0], {}, leaves_[0]).ok());
  EXPECT_FALSE(
      VerifyInclusion(0, 1, leaves_[0], {leaves_[1]}, leaves_[0]).ok());
}

}  // namespace
}  // namespace trellis::merkle
