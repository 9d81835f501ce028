#include "merkle/node_id.h"

namespace trellis::merkle {

std::vector<NodeID> DecomposeRange(uint64_t begin, uint64_t end) {
  std::vector<NodeID> left;
  std::vector<NodeID> right;
  // Grow from both ends: the left part climbs while `begin` is aligned, the
  // right part climbs while `end` is aligned, until they meet.
  uint32_t level = 0;
  while (begin < end) {
    if (begin & 1) {
      left.push_back({level, begin});
      ++begin;
    }
    if (begin < end && (end & 1)) {
      --end;
      right.push_back({level, end});
    }
    begin >>= 1;
    end >>= 1;
    ++level;
  }
  left.insert(left.end(), right.rbegin(), right.rend());
  return left;
}

}  // namespace trellis::merkle
