// The auditor's map proof file, checked by `trellis verify-map-proof`
// without contacting any server:
//   {"kind":"map","mapId":"ID","hashStrategy":"CONIKS_SHA256",
//    "index":B64,"leafValue":B64,"leafHash":B64,"root":B64,"revision":N,
//    "proof":[B64 or "" ...256],
//    "mapRoot":B64,"signature":B64,"publicKey":B64}   (last three optional)
// An empty leafValue and leafHash claim the index is unset. With mapRoot,
// signature and publicKey, the signed root is checked too and must carry
// `root` and `revision`.
#ifndef TRELLIS_CMD_TRELLIS_MAP_PROOF_FILE_H_
#define TRELLIS_CMD_TRELLIS_MAP_PROOF_FILE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "trillian.pb.h"
#include "trillian_map_api.pb.h"

namespace trellis::cli {

struct MapProofFile {
  int64_t map_id = 0;
  trillian::HashStrategy strategy = trillian::UNKNOWN_HASH_STRATEGY;
  trillian::MapLeaf leaf;
  std::string root;
  uint64_t revision = 0;
  std::vector<std::string> proof;
  std::string map_root;  // Signed MapRootV1 bytes, optional.
  std::string signature;
  std::string public_key;
};

// INVALID_ARGUMENT for anything unusable.
absl::StatusOr<MapProofFile> ParseMapProofFile(absl::string_view json);
// OK if the proof (and the signature, when present) holds.
absl::Status VerifyMapProofFile(const MapProofFile& file);
std::string ToJson(const MapProofFile& file);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_MAP_PROOF_FILE_H_
