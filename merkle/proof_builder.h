// Builds RFC 9162 inclusion and consistency proofs from stored nodes.
#ifndef TRELLIS_MERKLE_PROOF_BUILDER_H_
#define TRELLIS_MERKLE_PROOF_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "merkle/node_id.h"

namespace trellis::merkle {

// Source of the hashes of perfect subtrees (storage, a cache, a test array).
class NodeReader {
 public:
  virtual ~NodeReader() = default;
  // Hashes of `ids`, in the same order. NOT_FOUND if any node is missing.
  virtual absl::StatusOr<std::vector<std::string>> GetNodes(
      absl::Span<const NodeID> ids) = 0;
};

// A leaf range [begin, end) whose subtree hash is one element of a proof.
struct ProofRange {
  uint64_t begin;
  uint64_t end;
};

// The ranges whose hashes form the inclusion proof of leaf `index` in a tree
// of `size` leaves, leaf side first. Requires index < size.
std::vector<ProofRange> InclusionProofRanges(uint64_t index, uint64_t size);

// The ranges whose hashes form the consistency proof between `size1` and
// `size2`. Requires 0 < size1 <= size2; empty when the sizes are equal.
std::vector<ProofRange> ConsistencyProofRanges(uint64_t size1, uint64_t size2);

// Inclusion proof of leaf `index` in the tree of `size` leaves.
// INVALID_ARGUMENT unless index < size.
absl::StatusOr<std::vector<std::string>> BuildInclusionProof(uint64_t index,
                                                             uint64_t size,
                                                             NodeReader& nodes);

// Consistency proof from `size1` to `size2`. INVALID_ARGUMENT unless
// 0 < size1 <= size2.
absl::StatusOr<std::vector<std::string>> BuildConsistencyProof(
    uint64_t size1, uint64_t size2, NodeReader& nodes);

// Root hash of the first `size` leaves.
absl::StatusOr<std::string> BuildRootHash(uint64_t size, NodeReader& nodes);

}  // namespace trellis::merkle

#endif  // TRELLIS_MERKLE_PROOF_BUILDER_H_
