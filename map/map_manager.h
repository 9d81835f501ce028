// The map's operations with Trillian's rules, independent of gRPC: revisions
// (one per write), proofs at any stored revision, signed roots, and the
// optional history log that receives every signed root.
#ifndef TRELLIS_MAP_MAP_MANAGER_H_
#define TRELLIS_MAP_MAP_MANAGER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/repeated_field.h"
#include "log/record_sink.h"
#include "log/root_signer.h"
#include "map/hasher.h"
#include "storage/map_storage.h"
#include "storage/tree_storage.h"
#include "trillian_map_api.pb.h"

namespace trellis::map {

struct MapManagerOptions {
  // Most leaves one write may set.
  size_t max_leaves_per_write = 100000;
  // Most indices one read may ask for.
  size_t max_indices_per_read = 1000;
  // Threads that hash one revision's update.
  int update_threads = 2;
};

class MapManager {
 public:
  // `logs` receives signed roots for maps with a history log (may be null).
  // Signed roots of maps with a history log go to `history` (may be null:
  // no history is kept).
  MapManager(storage::TreeStorage* trees, storage::MapStorage* maps,
             log::RecordSink* history, log::SignerProvider signers,
             MapManagerOptions options = {});

  // Signs revision 0, the empty map. ALREADY_EXISTS if initialised.
  absl::StatusOr<trillian::SignedMapRoot> Init(int64_t map_id);

  // Creates the next revision with `leaves` (unique 32-byte indices).
  // `revision`, if non-zero, must be that next revision
  // (FAILED_PRECONDITION otherwise).
  absl::StatusOr<trillian::SignedMapRoot> Write(
      int64_t map_id,
      const google::protobuf::RepeatedPtrField<trillian::MapLeaf>& leaves,
      const std::string& metadata, int64_t revision);

  struct Leaves {
    trillian::SignedMapRoot root;
    std::vector<trillian::MapLeafInclusion> inclusions;  // Request order.
  };
  // Leaves at `revision` (-1: latest), with proofs if asked. A revision
  // beyond the latest is NOT_FOUND.
  absl::StatusOr<Leaves> GetLeaves(
      int64_t map_id, int64_t revision,
      const google::protobuf::RepeatedPtrField<std::string>& indices,
      bool with_proofs);

  // The signed root at `revision` (-1: latest).
  absl::StatusOr<trillian::SignedMapRoot> Root(int64_t map_id,
                                               int64_t revision);

  // The set leaf with the highest index whose first `prefix_bits` bits
  // equal those of `prefix`, at `revision`. NOT_FOUND if there is none.
  absl::StatusOr<trillian::MapLeaf> LastInRange(int64_t map_id,
                                                int64_t revision,
                                                const std::string& prefix,
                                                int prefix_bits);

  // Appends the map's waiting history entries (written with their
  // revisions) to its history log, oldest first, and clears them. Runs
  // after every write; trellisd also runs it for every map at start-up, so
  // entries a crash or an unavailable log held back arrive. Re-appending is
  // harmless: the log de-duplicates identical leaves.
  absl::Status DrainHistory(int64_t map_id);
  // DrainHistory for every map.
  absl::Status DrainAllHistory();

 private:
  enum class Access { kRead, kWrite };
  struct MapContext {
    trillian::Tree tree;
    const merkle::smt::MapHasher* hasher;
  };
  absl::StatusOr<MapContext> MapFor(int64_t map_id, Access access);
  // The revision record for `revision` (-1: latest).
  absl::StatusOr<storage::MapRevision> RevisionFor(int64_t map_id,
                                                   int64_t revision);
  absl::StatusOr<trillian::SignedMapRoot> Sign(int64_t map_id,
                                               std::string root_hash,
                                               int64_t revision,
                                               const std::string& metadata,
                                               uint64_t previous_timestamp);
  // The outbox entry that carries a revision's signed root to the map's
  // history log, if the map has one.
  static std::optional<storage::OutboxEntry> HistoryEntry(
      const trillian::Tree& tree, const trillian::SignedMapRoot& root,
      int64_t revision);
  absl::Mutex* WriteLock(int64_t map_id);
  // DrainHistory with the map's write lock held.
  absl::Status DrainHistoryLocked(int64_t map_id);
  static void ReportDrain(int64_t map_id, const absl::Status& status);

  storage::TreeStorage* const trees_;
  storage::MapStorage* const maps_;
  log::RecordSink* const history_;
  const log::SignerProvider signers_;
  const MapManagerOptions options_;
  absl::flat_hash_map<int, std::unique_ptr<merkle::smt::MapHasher>> hashers_;
  absl::Mutex locks_mu_;
  absl::flat_hash_map<int64_t, std::unique_ptr<absl::Mutex>> write_locks_
      ABSL_GUARDED_BY(locks_mu_);
};

}  // namespace trellis::map

#endif  // TRELLIS_MAP_MAP_MANAGER_H_
