#include "map/verifier.h"

namespace trellis::map {
namespace {

// Trillian's convention: a leaf with empty value and empty hash is absent.
std::optional<absl::string_view> LeafValue(const trillian::MapLeaf& leaf) {
  if (leaf.leaf_value().empty() && leaf.leaf_hash().empty()) {
    return std::nullopt;
  }
  return leaf.leaf_value();
}

}  // namespace

absl::StatusOr<std::string> RootFromMapProof(
    const merkle::smt::MapHasher& hasher, int64_t tree_id,
    const trillian::MapLeaf& leaf, const std::vector<std::string>& proof) {
  return merkle::smt::RootFromProof(hasher, tree_id, leaf.index(),
                                    LeafValue(leaf), proof);
}

absl::Status VerifyMapInclusion(const merkle::smt::MapHasher& hasher,
                                int64_t tree_id, const trillian::MapLeaf& leaf,
                                const std::vector<std::string>& proof,
                                absl::string_view root) {
  return merkle::smt::VerifyInclusion(hasher, tree_id, leaf.index(),
                                      LeafValue(leaf), proof, root);
}

}  // namespace trellis::map
