// The browser explorer (explorer/src) on the tlog-tiles listener: its built
// files, and a read-only JSON API of what its pages verify with WebCrypto:
// trees with their origins, keys and witness policies, leaves with
// inclusion proofs, consistency proofs, map leaves with their proofs and
// signed map roots, and (when enabled) the attestation evidence a verdict
// names. Public data only, as the tiles are; the page checks every answer
// against keys it pinned and digests it computes, so none is trusted.
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

// The stored attestation evidence whose SHA-256 is `digest` (raw bytes);
// NOT_FOUND if there is none.
using EvidenceSource =
    std::function<absl::StatusOr<std::string>(const std::string& digest)>;

// What the explorer reads; each must outlive the router.
struct ExplorerSources {
  storage::TreeStorage* trees = nullptr;
  log::LogManager* logs = nullptr;
  map::MapManager* maps = nullptr;  // Null: no map lookups.
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
