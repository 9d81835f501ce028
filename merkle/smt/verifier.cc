#include "merkle/smt/verifier.h"

#include "absl/strings/str_cat.h"

namespace trellis::merkle::smt {

absl::StatusOr<std::string> RootFromProof(
    const MapHasher& hasher, int64_t tree_id, absl::string_view index,
    std::optional<absl::string_view> value,
    const std::vector<std::string>& proof) {
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
  std::string running =
      value.has_value() ? hasher.HashLeaf(tree_id, index, *value) : "";
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

absl::Status VerifyInclusion(const MapHasher& hasher, int64_t tree_id,
                             absl::string_view index,
                             std::optional<absl::string_view> value,
                             const std::vector<std::string>& proof,
                             absl::string_view root) {
  absl::StatusOr<std::string> computed =
      RootFromProof(hasher, tree_id, index, value, proof);
  if (!computed.ok()) return computed.status();
  if (*computed != root) {
    return absl::FailedPreconditionError(
        "map proof does not lead to the given root");
  }
  return absl::OkStatus();
}

}  // namespace trellis::merkle::smt
