// An in-memory LRU of Merkle log tiles: complete level-0 tiles in their
// stored form, the others expanded (tile.h).
// Complete tiles never change and may be cached by anyone; right-edge tiles are
// cached only by the writer (RocksLogStorage::Integrate), which replaces them
// after each write and before the new root is visible. So a cached tile is
// never older than the root a reader holds (an evicted right-edge tile is read
// from RocksDB).
#ifndef TRELLIS_STORAGE_ROCKSDB_TILE_CACHE_H_
#define TRELLIS_STORAGE_ROCKSDB_TILE_CACHE_H_

#include <memory>
#include <string>

#include "util/lru_cache.h"

namespace trellis::storage::rocksdb {

class TileCache {
 public:
  explicit TileCache(size_t capacity_bytes) : cache_(capacity_bytes) {}

  // The cached tile stored under `key`, or null.
  std::shared_ptr<const std::string> Get(const std::string& key) {
    return cache_.Get(key);
  }
  // Caches a complete tile read from storage, unless already cached.
  void AddIfAbsent(const std::string& key,
                   std::shared_ptr<const std::string> tile) {
    const size_t bytes = tile->size();
    cache_.Put(key, std::move(tile), bytes, /*replace=*/false);
  }
  // Caches a tile just written, replacing any older version.
  void Replace(const std::string& key,
               std::shared_ptr<const std::string> tile) {
    const size_t bytes = tile->size();
    cache_.Put(key, std::move(tile), bytes, /*replace=*/true);
  }

 private:
  LruCache<std::string> cache_;
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_TILE_CACHE_H_
