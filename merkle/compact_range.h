// The right edge of a growing Merkle tree: the hashes of the perfect subtrees
// covering leaves [0, size). Enough to append leaves and compute the root
// without touching the rest of the tree.
#ifndef TRELLIS_MERKLE_COMPACT_RANGE_H_
#define TRELLIS_MERKLE_COMPACT_RANGE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "merkle/node_id.h"

namespace trellis::merkle {

class CompactRange {
 public:
  // Called for every node that becomes complete during Append, leaves
  // included, children before parents.
  using NodeVisitor = std::function<void(const NodeID&, const std::string&)>;

  // An empty tree.
  CompactRange() = default;

  // A tree of `size` leaves whose right edge is `hashes`, ordered as
  // DecomposeRange(0, size) orders its nodes.
  static absl::StatusOr<CompactRange> FromHashes(
      uint64_t size, std::vector<std::string> hashes);

  uint64_t size() const { return size_; }
  const std::vector<std::string>& hashes() const { return hashes_; }

  // Appends one leaf by its leaf hash.
  void Append(std::string leaf_hash, const NodeVisitor& visitor);

  // RFC 6962 root hash of the current tree (EmptyRoot() when empty).
  std::string Root() const;

 private:
  uint64_t size_ = 0;
  std::vector<std::string> hashes_;
};

}  // namespace trellis::merkle

#endif  // TRELLIS_MERKLE_COMPACT_RANGE_H_
