// Trillian's MapLeaf convention over the sparse verifier: empty value and
// empty hash mean absent; an empty value with a hash is a set empty value.
#include "map/verifier.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "map/hasher.h"

namespace trellis::map {
namespace {

TEST(MapVerifierTest, EmptyValueAndHashMeanAbsent) {
  auto hasher = NewMapHasher(trillian::CONIKS_SHA256);
  ASSERT_TRUE(hasher.ok());
  const std::string empty_root = (*hasher)->HashEmpty(3, "", 256);
  const std::vector<std::string> proof(256);
  trillian::MapLeaf leaf;
  leaf.set_index(std::string(32, 'k'));
  EXPECT_TRUE(VerifyMapInclusion(**hasher, 3, leaf, proof, empty_root).ok());
  leaf.set_leaf_hash((*hasher)->HashLeaf(3, leaf.index(), ""));
  EXPECT_EQ(VerifyMapInclusion(**hasher, 3, leaf, proof, empty_root).code(),
            absl::StatusCode::kFailedPrecondition);
  auto root = RootFromMapProof(**hasher, 3, leaf, proof);
  ASSERT_TRUE(root.ok());
  EXPECT_TRUE(VerifyMapInclusion(**hasher, 3, leaf, proof, *root).ok());
}

}  // namespace
}  // namespace trellis::map
