// Checks a data directory's trees against their signed roots, as an
// auditor would, from storage alone (a restored backup before it serves):
// every log's root is recomputed from its leaves, each leaf's Merkle hash
// from its value, and every signed log and map root must verify under its
// tree's public key.
#ifndef TRELLIS_ADMIN_STORE_VERIFIER_H_
#define TRELLIS_ADMIN_STORE_VERIFIER_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/log_storage.h"
#include "storage/map_storage.h"
#include "storage/tree_storage.h"
#include "trillian.pb.h"

namespace trellis::admin {

struct TreeVerification {
  int64_t tree_id = 0;
  trillian::TreeType type = trillian::UNKNOWN_TREE_TYPE;
  // Leaves (logs) or revision (maps) of the latest signed root.
  uint64_t size = 0;
  std::string root_hash;
  // For logs: the root hash was recomputed from every leaf's value. Maps'
  // roots are checked against their stored root node and signature only.
  bool recomputed = false;
  // DATA_LOSS naming what does not match; FAILED_PRECONDITION for a tree
  // never initialised (no root to check).
  absl::Status status;
};

// Called after each chunk of a log's leaves: (tree id, leaves checked).
using VerifyProgress = std::function<void(int64_t, uint64_t)>;

// Every tree not deleted, in tree id order. An error only if the trees
// cannot be listed.
absl::StatusOr<std::vector<TreeVerification>> VerifyStoredTrees(
    storage::TreeStorage& trees, storage::LogStorage& logs,
    storage::MapStorage& maps, const VerifyProgress& progress = nullptr);

}  // namespace trellis::admin

#endif  // TRELLIS_ADMIN_STORE_VERIFIER_H_
