// The browser explorer (explorer/) on the tlog-tiles listener: its built
// files, and a read-only JSON API of what its pages verify with WebCrypto:
// trees with their origins and note verifier keys, leaves with inclusion
// proofs, and consistency proofs. Public data only, as the tiles are; the
// page checks every answer against the key it pinned, so none is trusted.
#ifndef TRELLIS_LOG_EXPLORER_HTTP_H_
#define TRELLIS_LOG_EXPLORER_HTTP_H_

#include <string>

#include "absl/status/status.h"
#include "http/router.h"
#include "log/log_manager.h"
#include "storage/tree_storage.h"

namespace trellis::log {

// Serves /explorer/api/... from `trees` and `logs` (both must outlive the
// router), and /explorer/ from `files_dir` (the Vite build: index.html and
// assets/), read once here; without them /explorer/ says how to build
// them. An error if `files_dir` is given but unusable.
absl::Status AddExplorerRoutes(storage::TreeStorage* trees, LogManager* logs,
                               const std::string& files_dir,
                               http::Router& router);

}  // namespace trellis::log

#endif  // TRELLIS_LOG_EXPLORER_HTTP_H_
