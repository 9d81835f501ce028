// Test-only: a brute-force RFC 6962 tree computed straight from the RFC's
// recursive definitions (MTH, PATH, SUBPROOF) over the leaf hashes, with no
// sharing of code with the production proof builder beyond HashChildren.
#ifndef TRELLIS_MERKLE_REFERENCE_TREE_H_
#define TRELLIS_MERKLE_REFERENCE_TREE_H_

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "merkle/hasher.h"

namespace trellis::merkle {

class ReferenceTree {
 public:
  explicit ReferenceTree(std::vector<std::string> leaf_hashes)
      : leaves_(std::move(leaf_hashes)) {}

  // MTH(D[lo:hi]).
  std::string Hash(uint64_t lo, uint64_t hi) {
    if (hi == lo) return EmptyRoot();
    if (hi - lo == 1) return leaves_[lo];
    auto it = memo_.find({lo, hi});
    if (it != memo_.end()) return it->second;
    const uint64_t k = Split(hi - lo);
    std::string h = HashChildren(Hash(lo, lo + k), Hash(lo + k, hi));
    memo_.emplace(std::make_pair(lo, hi), h);
    return h;
  }

  std::string Root(uint64_t size) { return Hash(0, size); }

  // PATH(m, D[lo:hi]).
  std::vector<std::string> Path(uint64_t m, uint64_t lo, uint64_t hi) {
    if (hi - lo <= 1) return {};
    const uint64_t k = Split(hi - lo);
    std::vector<std::string> out;
    if (m < k) {
      out = Path(m, lo, lo + k);
      out.push_back(Hash(lo + k, hi));
    } else {
      out = Path(m - k, lo + k, hi);
      out.push_back(Hash(lo, lo + k));
    }
    return out;
  }

  std::vector<std::string> InclusionProof(uint64_t index, uint64_t size) {
    return Path(index, 0, size);
  }

  // SUBPROOF(m, D[lo:hi], b).
  std::vector<std::string> Subproof(uint64_t m, uint64_t lo, uint64_t hi,
                                    bool b) {
    const uint64_t n = hi - lo;
    if (m == n) {
      if (b) return {};
      return {Hash(lo, hi)};
    }
    const uint64_t k = Split(n);
    std::vector<std::string> out;
    if (m <= k) {
      out = Subproof(m, lo, lo + k, b);
      out.push_back(Hash(lo + k, hi));
    } else {
      out = Subproof(m - k, lo + k, hi, false);
      out.push_back(Hash(lo, lo + k));
    }
    return out;
  }

  std::vector<std::string> ConsistencyProof(uint64_t size1, uint64_t size2) {
    return Subproof(size1, 0, size2, true);
  }

 private:
  static uint64_t Split(uint64_t n) {
    uint64_t k = 1;
    while (k * 2 < n) k *= 2;
    return k;
  }

  std::vector<std::string> leaves_;
  std::map<std::pair<uint64_t, uint64_t>, std::string> memo_;
};

// Leaf hashes of the values "leaf-0", "leaf-1", ...
inline std::vector<std::string> NumberedLeafHashes(uint64_t n) {
  std::vector<std::string> out;
  out.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    out.push_back(HashLeaf("leaf-" + std::to_string(i)));
  }
  return out;
}

}  // namespace trellis::merkle

#endif  // TRELLIS_MERKLE_REFERENCE_TREE_H_
