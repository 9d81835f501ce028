// Addresses of perfect subtrees ("nodes") of a Merkle tree.
#ifndef TRELLIS_MERKLE_NODE_ID_H_
#define TRELLIS_MERKLE_NODE_ID_H_

#include <cstdint>
#include <tuple>
#include <vector>

namespace trellis::merkle {

// The perfect subtree at `level` (0 = leaves) covering leaves
// [index << level, (index + 1) << level).
struct NodeID {
  uint32_t level = 0;
  uint64_t index = 0;

  uint64_t Begin() const { return index << level; }
  uint64_t End() const { return (index + 1) << level; }

  friend bool operator==(const NodeID& a, const NodeID& b) {
    return a.level == b.level && a.index == b.index;
  }
  friend bool operator<(const NodeID& a, const NodeID& b) {
    return std::tie(a.level, a.index) < std::tie(b.level, b.index);
  }
};

// The perfect subtrees that exactly cover leaves [begin, end), left to right:
// the "compact range" decomposition. Empty when begin == end.
std::vector<NodeID> DecomposeRange(uint64_t begin, uint64_t end);

}  // namespace trellis::merkle

#endif  // TRELLIS_MERKLE_NODE_ID_H_
