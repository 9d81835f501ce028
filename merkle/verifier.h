// Standalone RFC 9162 proof verification: what an auditor links to check a
// log without trusting it. Depends on nothing but the hasher.
#ifndef TRELLIS_MERKLE_VERIFIER_H_
#define TRELLIS_MERKLE_VERIFIER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::merkle {

// Root hash implied by an inclusion proof of `leaf_hash` at `index` in a tree
// of `size` leaves (RFC 9162 2.1.3.2). INVALID_ARGUMENT if the proof has the
// wrong shape (length, hash sizes, index >= size).
absl::StatusOr<std::string> RootFromInclusionProof(
    uint64_t index, uint64_t size, absl::string_view leaf_hash,
    const std::vector<std::string>& proof);

// OK if `proof` proves `leaf_hash` at `index` in the tree of `size` leaves
// with root `root`. INVALID_ARGUMENT for a malformed proof,
// FAILED_PRECONDITION when a well-formed proof leads to a different root.
absl::Status VerifyInclusion(uint64_t index, uint64_t size,
                             absl::string_view leaf_hash,
                             const std::vector<std::string>& proof,
                             absl::string_view root);

// OK if `proof` shows that the tree of `size1` leaves with root `root1` is a
// prefix of the tree of `size2` leaves with root `root2` (RFC 9162 2.1.4.2).
// Requires 0 < size1 <= size2; equal sizes need an empty proof and equal
// roots (compared as bytes, whatever their length, as transparency-dev/merkle
// does).
absl::Status VerifyConsistency(uint64_t size1, uint64_t size2,
                               absl::string_view root1, absl::string_view root2,
                               const std::vector<std::string>& proof);

}  // namespace trellis::merkle

#endif  // TRELLIS_MERKLE_VERIFIER_H_
