// MapStorage on the embedded RocksDB ("map" column family):
//   <tree> 'r' <revision>                      -> revision record
//   <tree> 't' <depth> <prefix> <~revision>    -> merkle::smt::Tile
//   <tree> 'v' <index> <~revision>             -> trillian.MapLeaf
//   <tree> 'p' <'t' or 'v' record prefix>      -> revision of its newest
//   version
// Versions carry the bitwise complement of the revision, so one Seek finds
// the newest version at or before a revision; the 'p' pointer lets reads at
// the latest revisions use point lookups instead.
#ifndef TRELLIS_STORAGE_ROCKSDB_MAP_STORAGE_H_
#define TRELLIS_STORAGE_ROCKSDB_MAP_STORAGE_H_

#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "storage/map_storage.h"
#include "storage/rocksdb/database.h"
#include "util/lru_cache.h"

namespace trellis::storage::rocksdb {

inline constexpr size_t kDefaultMapTileCacheBytes = size_t{256} << 20;

class RocksMapStorage : public MapStorage {
 public:
  // `tile_cache_bytes` bounds each of the two caches of decoded tiles.
  explicit RocksMapStorage(Database* db,
                           size_t tile_cache_bytes = kDefaultMapTileCacheBytes)
      : db_(db),
        caches_{LruCache<CurrentTile>(tile_cache_bytes),
                LruCache<merkle::smt::Tile>(tile_cache_bytes)} {}

  struct CurrentTile {
    int64_t revision;  // Of this, the tile's newest version.
    merkle::smt::Tile tile;
  };
  struct TileCaches {
    // By tile: its newest version, filled only by the writer.
    LruCache<CurrentTile> current;
    // By versioned key: any stored version (immutable), filled by readers.
    LruCache<merkle::smt::Tile> versions;
  };

  absl::StatusOr<std::optional<MapRevision>> LatestRevision(
      int64_t tree_id) override;
  absl::StatusOr<std::optional<MapRevision>> Revision(
      int64_t tree_id, int64_t revision) override;
  absl::Status WriteRevision(int64_t tree_id,
                             const MapRevisionWrite& write) override;
  absl::StatusOr<std::vector<OutboxEntry>> Outbox(int64_t tree_id) override;
  absl::Status DeleteOutbox(int64_t tree_id, int64_t revision) override;
  std::unique_ptr<merkle::smt::TileReader> TilesAt(int64_t tree_id,
                                                   int64_t revision) override;
  absl::StatusOr<std::vector<std::optional<trillian::MapLeaf>>> GetLeaves(
      int64_t tree_id, int64_t revision,
      absl::Span<const std::string> indices) override;
  absl::StatusOr<std::optional<trillian::MapLeaf>> LastInRange(
      int64_t tree_id, int64_t revision, const std::string& low,
      const std::string& high) override;

 private:
  Database* const db_;
  TileCaches caches_;
  absl::Mutex mu_;
  // Latest revision per map, once read (this process is the only writer).
  absl::flat_hash_map<int64_t, std::optional<MapRevision>> latest_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_MAP_STORAGE_H_
