#include "map/verifier.h"

#include "absl/strings/str_cat.h"

namespace trellis::map {

absl::StatusOr<std::string> RootFromMapProof(
    const MapHasher& hasher, int64_t tree_id, const trillian::MapLeaf& leaf,
    const std::vector<std::string>& proof) {
  const std::string& index = leaf.index();
  if (index.size() != kIndexBytes) {
    return absl::InvalidArgumentError("map index must be 32 bytes");
  }
  if (proof.size() != kIndexBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("map proof has ", proof.size(), " entries, want 256"));
  }
  const size_t hash_size = hasher.HashChildren("", "").size();
  for (const std::string& entry : proof) {
    if (!entry.empty() && entry.size() != hash_size) {
      return absl::InvalidArgumentError("map proof entry has the wrong length");
    }
  }
  const bool absent = leaf.leaf_value().empty() && leaf.leaf_hash().empty();
  std::string running =
      absent ? "" : hasher.HashLeaf(tree_id, index, leaf.leaf_value());
  for (int height = 0; height < kIndexBits; ++height) {
    const int depth = kIndexBits - height;
    std::string sibling = proof[height];
    if (running.empty() && sibling.empty()) continue;  // Still all empty.
    if (running.empty()) {
      running = hasher.HashEmpty(tree_id, index, height);
    }
    if (sibling.empty()) {
      std::string sibling_index = MaskIndex(index, depth);
      sibling_index[(depth - 1) / 8] ^=
          static_cast<char>(0x80 >> ((depth - 1) % 8));
      sibling = hasher.HashEmpty(tree_id, sibling_index, height);
    }
    running = IndexBit(index, depth - 1) == 0
                  ? hasher.HashChildren(running, sibling)
                  : hasher.HashChildren(sibling, running);
  }
  if (running.empty()) running = hasher.HashEmpty(tree_id, "", kIndexBits);
  return running;
}

absl::Status VerifyMapInclusion(const MapHasher& hasher, int64_t tree_id,
                                const trillian::MapLeaf& leaf,
                                const std::vector<std::string>& proof,
                                absl::string_view root) {
  absl::StatusOr<std::string> computed =
      RootFromMapProof(hasher, tree_id, leaf, proof);
  if (!computed.ok()) return computed.status();
  if (*computed != root) {
    return absl::FailedPreconditionError(
        "map proof does not lead to the given root");
  }
  return absl::OkStatus();
}

}  // namespace trellis::map
