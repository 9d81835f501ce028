// Storage of sparse Merkle maps: subtree tiles and leaves versioned by
// revision, and one record per revision (signed root and root node).
#ifndef TRELLIS_STORAGE_MAP_STORAGE_H_
#define TRELLIS_STORAGE_MAP_STORAGE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "merkle/smt/sparse_tree.h"
#include "merkle/smt/tile.h"
#include "trillian.pb.h"
#include "trillian_map_api.pb.h"

namespace trellis::storage {

struct MapRevision {
  int64_t revision = 0;
  trillian::SignedMapRoot root;
  merkle::smt::NodeEntry root_node;
};

// Everything one revision writes.
// A record waiting to be appended to a log (a map's history log): written
// in the same atomic write as the revision it is about, deleted once the
// log holds it, so no revision can miss its entry.
struct OutboxEntry {
  int64_t revision = 0;
  int64_t log_id = 0;
  std::string record;
};

struct MapRevisionWrite {
  MapRevision revision;
  std::vector<std::pair<merkle::smt::TileId, merkle::smt::Tile>> tiles;
  std::vector<trillian::MapLeaf> leaves;  // With leaf_hash set.
  std::optional<OutboxEntry> outbox;
};

class MapStorage {
 public:
  virtual ~MapStorage() = default;

  // The newest revision, or nullopt if the map was never initialised.
  virtual absl::StatusOr<std::optional<MapRevision>> LatestRevision(
      int64_t tree_id) = 0;
  // A stored revision, or nullopt.
  virtual absl::StatusOr<std::optional<MapRevision>> Revision(
      int64_t tree_id, int64_t revision) = 0;

  // Writes a revision atomically and durably. FAILED_PRECONDITION unless it
  // is the latest revision plus one (or 0 for an uninitialised map).
  virtual absl::Status WriteRevision(int64_t tree_id,
                                     const MapRevisionWrite& write) = 0;

  // The map's outbox, oldest revision first.
  virtual absl::StatusOr<std::vector<OutboxEntry>> Outbox(int64_t tree_id) = 0;
  // Removes the outbox entry of `revision` (durably; no error if absent).
  virtual absl::Status DeleteOutbox(int64_t tree_id, int64_t revision) = 0;

  // Reads tiles as they were at `revision`.
  virtual std::unique_ptr<merkle::smt::TileReader> TilesAt(
      int64_t tree_id, int64_t revision) = 0;

  // The leaves at these indices as of `revision` (nullopt: never set).
  virtual absl::StatusOr<std::vector<std::optional<trillian::MapLeaf>>>
  GetLeaves(int64_t tree_id, int64_t revision,
            absl::Span<const std::string> indices) = 0;

  // The set leaf with the highest index in [low, high] as of `revision`.
  virtual absl::StatusOr<std::optional<trillian::MapLeaf>> LastInRange(
      int64_t tree_id, int64_t revision, const std::string& low,
      const std::string& high) = 0;
};

}  // namespace trellis::storage

#endif  // TRELLIS_STORAGE_MAP_STORAGE_H_
