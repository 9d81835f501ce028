// Checks proof construction against the brute-force RFC 6962 reference for
// every tree size up to 300 and random sizes up to 10^6.
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "merkle/compact_range.h"
#include "merkle/proof_builder.h"
#include "merkle/reference_tree.h"
#include "merkle/verifier.h"

namespace trellis::merkle {
namespace {

// Stores every perfect subtree emitted by CompactRange, as storage does.
class InMemoryNodes : public NodeReader {
 public:
  explicit InMemoryNodes(const std::vector<std::string>& leaves) {
    CompactRange range;
    for (const std::string& leaf : leaves) {
      range.Append(leaf, [&](const NodeID& id, const std::string& hash) {
        if (levels_.size() <= id.level) levels_.resize(id.level + 1);
        auto& level = levels_[id.level];
        if (level.size() <= id.index) level.resize(id.index + 1);
        level[id.index] = hash;
      });
    }
  }
  absl::StatusOr<std::vector<std::string>> GetNodes(
      absl::Span<const NodeID> ids) override {
    std::vector<std::string> out;
    for (const NodeID& id : ids) {
      if (id.level >= levels_.size() || id.index >= levels_[id.level].size()) {
        return absl::NotFoundError("node missing");
      }
      out.push_back(levels_[id.level][id.index]);
    }
    ++calls_;
    return out;
  }
  int calls() const { return calls_; }

 private:
  std::vector<std::vector<std::string>> levels_;
  int calls_ = 0;
};

TEST(ProofTest, EveryInclusionProofUpTo300) {
  constexpr uint64_t kMax = 300;
  const std::vector<std::string> leaves = NumberedLeafHashes(kMax);
  ReferenceTree ref(leaves);
  InMemoryNodes nodes(leaves);
  for (uint64_t size = 1; size <= kMax; ++size) {
    const std::string root = ref.Root(size);
    auto built_root = BuildRootHash(size, nodes);
    ASSERT_TRUE(built_root.ok());
    ASSERT_EQ(*built_root, root) << size;
    for (uint64_t index = 0; index < size; ++index) {
      auto proof = BuildInclusionProof(index, size, nodes);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_EQ(*proof, ref.InclusionProof(index, size))
          << "index " << index << " size " << size;
      ASSERT_TRUE(
          VerifyInclusion(index, size, leaves[index], *proof, root).ok());
    }
  }
}

TEST(ProofTest, EveryConsistencyProofUpTo300) {
  constexpr uint64_t kMax = 300;
  const std::vector<std::string> leaves = NumberedLeafHashes(kMax);
  ReferenceTree ref(leaves);
  InMemoryNodes nodes(leaves);
  for (uint64_t size2 = 1; size2 <= kMax; ++size2) {
    const std::string root2 = ref.Root(size2);
    for (uint64_t size1 = 1; size1 <= size2; ++size1) {
      auto proof = BuildConsistencyProof(size1, size2, nodes);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_EQ(*proof, ref.ConsistencyProof(size1, size2))
          << size1 << " -> " << size2;
      ASSERT_TRUE(
          VerifyConsistency(size1, size2, ref.Root(size1), root2, *proof).ok())
          << size1 << " -> " << size2;
    }
  }
}

TEST(ProofTest, RandomSizesUpToAMillion) {
  constexpr uint64_t kMax = 1000000;
  const std::vector<std::string> leaves = NumberedLeafHashes(kMax);
  ReferenceTree ref(leaves);
  InMemoryNodes nodes(leaves);
  std::mt19937_64 rng(42);
  std::vector<uint64_t> sizes = {kMax, kMax - 1, 1 << 19, (1 << 19) + 1};
  for (int i = 0; i < 16; ++i) sizes.push_back(1 + rng() % kMax);
  for (uint64_t size : sizes) {
    const std::string root = ref.Root(size);
    for (int j = 0; j < 8; ++j) {
      const uint64_t index = j == 0 ? size - 1 : rng() % size;
      auto proof = BuildInclusionProof(index, size, nodes);
      ASSERT_TRUE(proof.ok());
      ASSERT_EQ(*proof, ref.InclusionProof(index, size))
          << "index " << index << " size " << size;
      ASSERT_TRUE(
          VerifyInclusion(index, size, leaves[index], *proof, root).ok());
      const uint64_t size1 = 1 + rng() % size;
      auto consistency = BuildConsistencyProof(size1, size, nodes);
      ASSERT_TRUE(consistency.ok());
      ASSERT_EQ(*consistency, ref.ConsistencyProof(size1, size))
          << size1 << " -> " << size;
      ASSERT_TRUE(
          VerifyConsistency(size1, size, ref.Root(size1), root, *consistency)
              .ok());
    }
  }
}

TEST(ProofTest, OneNodeFetchPerProof) {
  const std::vector<std::string> leaves = NumberedLeafHashes(1000);
  InMemoryNodes nodes(leaves);
  ASSERT_TRUE(BuildInclusionProof(5, 999, nodes).ok());
  ASSERT_TRUE(BuildConsistencyProof(17, 999, nodes).ok());
  EXPECT_EQ(nodes.calls(), 2);
}

TEST(ProofTest, RejectsImpossibleRequests) {
  const std::vector<std::string> leaves = NumberedLeafHashes(10);
  InMemoryNodes nodes(leaves);
  EXPECT_EQ(BuildInclusionProof(10, 10, nodes).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildInclusionProof(0, 0, nodes).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildConsistencyProof(0, 5, nodes).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BuildConsistencyProof(6, 5, nodes).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Nodes beyond what is stored surface the reader's error.
  EXPECT_EQ(BuildInclusionProof(0, 20, nodes).status().code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace trellis::merkle
