// The browser explorer (explorer/src) on the tlog-tiles listener: its built
// files, and a read-only JSON API of what its pages verify with WebCrypto:
// trees with their origins, keys and witness policies, leaves with
// inclusion proofs, consistency proofs, map leaves with their proofs and
// signed map roots, and the attestation evidence a verdict names. By
// default only what the tiles already publish: leaves of logs that publish
// their entries, and the identity map (derived from those logs); other
// maps and evidence only when the operator opts in (403 otherwise). The
// page checks every
// answer against keys it pinned and digests it computes.
#ifndef TRELLIS_EXPLORER_SERVER_EXPLORER_HTTP_H_
#define TRELLIS_EXPLORER_SERVER_EXPLORER_HTTP_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "http/router.h"
#include "log/log_manager.h"
#include "map/map_manager.h"
#include "storage/tree_storage.h"

namespace trellis::explorer {

// The name trellisd gives its identity map (per SPIFFE ID, the latest
// issuance and its verdict: nothing the issuance and attestation logs do
// not publish), by which the pages know to decode its values.
inline constexpr char kIdentityMapName[] = "trellis-identities";

// The stored attestation evidence whose SHA-256 is `digest` (raw bytes);
// NOT_FOUND if there is none.
using EvidenceSource =
    std::function<absl::StatusOr<std::string>(const std::string& digest)>;

// What the explorer reads; each must outlive the router.
struct ExplorerSources {
  storage::TreeStorage* trees = nullptr;
  log::LogManager* logs = nullptr;
  map::MapManager* maps = nullptr;  // Null: no map lookups.
  // The identity map's tree id (0 before there is one); unset when this
  // server issues no identities.
  std::function<absl::StatusOr<int64_t>()> identity_map_id;
  // Serve every map's leaves, not only the identity map's: --explorer_maps.
  bool all_maps = false;
  // Unset: evidence is not served (it names a host's software, so an
  // operator opts in with --explorer_evidence).
  EvidenceSource evidence;
};

// Serves /explorer/api/... from `sources`, and /explorer/ from `files_dir`
// (the Vite build: index.html and assets/), read once here; without them
// /explorer/ says how to build them. An error if `files_dir` is given but
// unusable.
absl::Status AddExplorerRoutes(const ExplorerSources& sources,
                               const std::string& files_dir,
                               http::Router& router);

}  // namespace trellis::explorer

#endif  // TRELLIS_EXPLORER_SERVER_EXPLORER_HTTP_H_
