#include "merkle/proof_builder.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "merkle/hasher.h"

namespace trellis::merkle {
namespace {

// Largest power of two strictly below n (n >= 2): RFC 6962's split point.
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

// Hashes each range by fetching its perfect subtrees in one batch and folding
// them right to left, as RFC 6962's MTH does for an unbalanced right edge.
absl::StatusOr<std::vector<std::string>> HashRanges(
    const std::vector<ProofRange>& ranges, NodeReader& nodes) {
  std::vector<NodeID> ids;
  std::vector<size_t> counts;
  for (const ProofRange& r : ranges) {
    std::vector<NodeID> parts = DecomposeRange(r.begin, r.end);
    counts.push_back(parts.size());
    ids.insert(ids.end(), parts.begin(), parts.end());
  }
  absl::StatusOr<std::vector<std::string>> hashes = nodes.GetNodes(ids);
  if (!hashes.ok()) return hashes.status();
  if (hashes->size() != ids.size()) {
    return absl::InternalError(
        "node reader returned the wrong number of nodes");
  }
  std::vector<std::string> out;
  out.reserve(ranges.size());
  size_t next = 0;
  for (size_t count : counts) {
    std::string acc = std::move((*hashes)[next + count - 1]);
    for (size_t i = count - 1; i-- > 0;) {
      acc = HashChildren((*hashes)[next + i], acc);
    }
    out.push_back(std::move(acc));
    next += count;
  }
  return out;
}

}  // namespace

std::vector<ProofRange> InclusionProofRanges(uint64_t index, uint64_t size) {
  // RFC 9162 2.1.3.1 PATH(m, D[n]), unrolled from the root down; the result
  // is reversed so that the leaf's sibling comes first.
  std::vector<ProofRange> ranges;
  uint64_t lo = 0;
  uint64_t hi = size;
  while (hi - lo > 1) {
    const uint64_t k = SplitPoint(hi - lo);
    if (index - lo < k) {
      ranges.push_back({lo + k, hi});
      hi = lo + k;
    } else {
      ranges.push_back({lo, lo + k});
      lo += k;
    }
  }
  std::reverse(ranges.begin(), ranges.end());
  return ranges;
}

std::vector<ProofRange> ConsistencyProofRanges(uint64_t size1, uint64_t size2) {
  // RFC 9162 2.1.4.1 SUBPROOF(m, D[n], b), unrolled from the root down.
  std::vector<ProofRange> ranges;
  uint64_t m = size1;
  uint64_t lo = 0;
  uint64_t hi = size2;
  bool whole_old_tree = true;  // b: the old tree is a complete left subtree.
  while (m != hi - lo) {
    const uint64_t k = SplitPoint(hi - lo);
    if (m <= k) {
      ranges.push_back({lo + k, hi});
      hi = lo + k;
    } else {
      ranges.push_back({lo, lo + k});
      m -= k;
      lo += k;
      whole_old_tree = false;
    }
  }
  if (!whole_old_tree) ranges.push_back({lo, hi});
  std::reverse(ranges.begin(), ranges.end());
  return ranges;
}

absl::StatusOr<std::vector<std::string>> BuildInclusionProof(
    uint64_t index, uint64_t size, NodeReader& nodes) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf index ", index, " is not below tree size ", size));
  }
  return HashRanges(InclusionProofRanges(index, size), nodes);
}

absl::StatusOr<std::vector<std::string>> BuildConsistencyProof(
    uint64_t size1, uint64_t size2, NodeReader& nodes) {
  if (size1 == 0 || size1 > size2) {
    return absl::InvalidArgumentError(
        absl::StrCat("consistency proof needs 0 < size1 <= size2, got ", size1,
                     ", ", size2));
  }
  if (size1 == size2) return std::vector<std::string>();
  return HashRanges(ConsistencyProofRanges(size1, size2), nodes);
}

absl::StatusOr<std::string> BuildRootHash(uint64_t size, NodeReader& nodes) {
  if (size == 0) return EmptyRoot();
  absl::StatusOr<std::vector<std::string>> hashes =
      HashRanges({{0, size}}, nodes);
  if (!hashes.ok()) return hashes.status();
  return std::move(hashes->front());
}

}  // namespace trellis::merkle
