// Sparse Merkle proof verification: the root a 256-entry proof leads to,
// where an empty entry stands for the empty subtree at that height.
#ifndef TRELLIS_MERKLE_SMT_VERIFIER_H_
#define TRELLIS_MERKLE_SMT_VERIFIER_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merkle/smt/hasher.h"

namespace trellis::merkle::smt {

// The root hash the proof for `index` leads to when the leaf holds `value`,
// or is absent when `value` is nullopt. INVALID_ARGUMENT if the index is not
// 32 bytes, the proof does not have 256 entries, or an entry is neither empty
// nor a hash.
absl::StatusOr<std::string> RootFromProof(
    const MapHasher& hasher, int64_t tree_id, absl::string_view index,
    std::optional<absl::string_view> value,
    const std::vector<std::string>& proof);

// OK if the proof leads to `root`; FAILED_PRECONDITION if it leads
// elsewhere; INVALID_ARGUMENT if it is malformed.
absl::Status VerifyInclusion(const MapHasher& hasher, int64_t tree_id,
                             absl::string_view index,
                             std::optional<absl::string_view> value,
                             const std::vector<std::string>& proof,
                             absl::string_view root);

}  // namespace trellis::merkle::smt

#endif  // TRELLIS_MERKLE_SMT_VERIFIER_H_
