// Map proof verification over Trillian's MapLeaf (what an auditor links),
// with the semantics of Trillian's VerifyMapInclusionProof: a leaf with empty
// value and empty leaf_hash is proven absent.
#ifndef TRELLIS_MAP_VERIFIER_H_
#define TRELLIS_MAP_VERIFIER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "merkle/smt/verifier.h"
#include "trillian_map_api.pb.h"

namespace trellis::map {

// The root hash a proof for `leaf` leads to. INVALID_ARGUMENT if the index
// is not 32 bytes, the proof does not have 256 entries, or an entry is
// neither empty nor a hash.
absl::StatusOr<std::string> RootFromMapProof(
    const merkle::smt::MapHasher& hasher, int64_t tree_id,
    const trillian::MapLeaf& leaf, const std::vector<std::string>& proof);

// OK if the proof leads to `root`; FAILED_PRECONDITION if it leads
// elsewhere; INVALID_ARGUMENT if it is malformed.
absl::Status VerifyMapInclusion(const merkle::smt::MapHasher& hasher,
                                int64_t tree_id, const trillian::MapLeaf& leaf,
                                const std::vector<std::string>& proof,
                                absl::string_view root);

}  // namespace trellis::map

#endif  // TRELLIS_MAP_VERIFIER_H_
