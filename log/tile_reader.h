// What a C2SP tlog-tiles client may read from a log: its latest published
// checkpoint, and the hash tiles and entry bundles that checkpoint commits
// to. Tiles beyond it are not served even when stored, so no reader sees a
// node the log has not signed for yet.
#ifndef TRELLIS_LOG_TILE_READER_H_
#define TRELLIS_LOG_TILE_READER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "log/checkpoint_publisher.h"
#include "storage/log_storage.h"
#include "storage/tree_storage.h"
#include "tlog/tiles.h"
#include "util/lru_cache.h"

namespace trellis::log {

inline constexpr size_t kDefaultTileCacheBytes = size_t{64} << 20;

class TileReader {
 public:
  // Tiles and bundles never change at a given width: they are kept in an
  // LRU cache of `cache_bytes`.
  TileReader(storage::TreeStorage* trees, storage::LogStorage* logs,
             CheckpointPublisher* checkpoints,
             size_t cache_bytes = kDefaultTileCacheBytes)
      : trees_(trees),
        logs_(logs),
        checkpoints_(checkpoints),
        tiles_(cache_bytes) {}

  // The latest checkpoint of a log. NOT_FOUND for a tree that is not a
  // log, is deleted, or has none published yet.
  absl::StatusOr<std::shared_ptr<const storage::StoredCheckpoint>> Checkpoint(
      int64_t tree_id);

  // The tile or entry bundle `id` names (tlog::ParseTilePath): a full one
  // once the latest checkpoint covers all 256 of its entries, a partial one
  // of width W once it covers W. NOT_FOUND otherwise, and for entry bundles
  // of a log whose LogSettings do not serve them.
  absl::StatusOr<std::shared_ptr<const std::string>> Tile(
      int64_t tree_id, const tlog::TileId& id);

 private:
  // The log, if it is one and not deleted; NOT_FOUND otherwise.
  absl::StatusOr<trillian::Tree> ServedLog(int64_t tree_id);

  storage::TreeStorage* const trees_;
  storage::LogStorage* const logs_;
  CheckpointPublisher* const checkpoints_;
  LruCache<std::string> tiles_;
};

// How many of the 256 entries of tile `index` at tile level `level` a tree
// of `tree_size` leaves has (0..256). Entry bundles are level 0.
uint32_t TileEntriesAt(int level, uint64_t index, uint64_t tree_size);

}  // namespace trellis::log

#endif  // TRELLIS_LOG_TILE_READER_H_
