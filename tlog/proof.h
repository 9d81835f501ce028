// C2SP tlog-proof (https://c2sp.org/tlog-proof): an offline-verifiable
// proof that an entry is in a log, as text:
//   c2sp.org/tlog-proof@v1
//   [extra <base64>]
//   index <decimal>
//   <base64 inclusion proof hash>...   (leaf's sibling first)
//   <empty line>
//   <the checkpoint, a signed note with any cosignatures>
#ifndef TRELLIS_TLOG_PROOF_H_
#define TRELLIS_TLOG_PROOF_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::tlog {

inline constexpr char kTlogProofHeader[] = "c2sp.org/tlog-proof@v1";
// An inclusion proof in a tree of up to 2^64 leaves.
inline constexpr size_t kMaxInclusionProofHashes = 64;

struct TlogProof {
  std::optional<std::string> extra;  // Opaque, unauthenticated.
  uint64_t index = 0;
  std::vector<std::string> hashes;  // 32 bytes each.
  std::string checkpoint_note;
};

// INVALID_ARGUMENT for a hash that is not 32 bytes or too many of them.
absl::StatusOr<std::string> FormatTlogProof(const TlogProof& proof);

// Strict (canonical base64, decimals without leading zeros); the note is
// returned as written, unparsed. INVALID_ARGUMENT otherwise.
absl::StatusOr<TlogProof> ParseTlogProof(absl::string_view text);

}  // namespace trellis::tlog

#endif  // TRELLIS_TLOG_PROOF_H_
