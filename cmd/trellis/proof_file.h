// The auditor's proof file: a self-contained JSON statement that
// `trellis verify-proof` checks without contacting any server.
//   {"kind":"inclusion","leafIdx":N,"treeSize":N,"leafHash":B64,"root":B64,
//    "proof":[B64...]}
//   {"kind":"consistency","size1":N,"size2":N,"root1":B64,"root2":B64,
//    "proof":[B64...]}
#ifndef TRELLIS_CMD_TRELLIS_PROOF_FILE_H_
#define TRELLIS_CMD_TRELLIS_PROOF_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::cli {

struct ProofFile {
  enum class Kind { kInclusion, kConsistency };
  Kind kind = Kind::kInclusion;
  // Inclusion: leaf_index, tree_size, leaf_hash, root.
  // Consistency: size1, size2, root1, root2.
  uint64_t leaf_index = 0;
  uint64_t tree_size = 0;
  std::string leaf_hash;
  std::string root;
  uint64_t size1 = 0;
  uint64_t size2 = 0;
  std::string root1;
  std::string root2;
  std::vector<std::string> proof;
};

// INVALID_ARGUMENT for anything unusable: not JSON, unknown kind, missing or
// mistyped fields, negative numbers, bad base64. A null "proof" is an empty
// one (Go's encoding of a nil slice).
absl::StatusOr<ProofFile> ParseProofFile(absl::string_view json);

// OK if the proof holds; otherwise the verifier's error.
absl::Status VerifyProofFile(const ProofFile& file);

std::string ToJson(const ProofFile& file);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_PROOF_FILE_H_
