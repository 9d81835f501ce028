// An in-memory LRU of Merkle tiles. Complete tiles never change and may be
// cached by anyone; right-edge tiles are cached only by the writer
// (RocksLogStorage::Integrate), which replaces them after each write and
// before the new root is visible. So a cached tile is never older than the
// root a reader holds (an evicted right-edge tile is read from RocksDB).
#ifndef TRELLIS_STORAGE_ROCKSDB_TILE_CACHE_H_
#define TRELLIS_STORAGE_ROCKSDB_TILE_CACHE_H_

#include <cstddef>
#include <list>
#include <memory>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace trellis::storage::rocksdb {

class TileCache {
 public:
  explicit TileCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  // The cached tile stored under `key`, or null.
  std::shared_ptr<const std::string> Get(const std::string& key);
  // Caches a complete tile read from storage, unless already cached.
  void AddIfAbsent(const std::string& key,
                   std::shared_ptr<const std::string> tile);
  // Caches a tile just written, replacing any older version.
  void Replace(const std::string& key, std::shared_ptr<const std::string> tile);

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const std::string>>;
  void Insert(const std::string& key, std::shared_ptr<const std::string> tile,
              bool replace);
  const size_t capacity_;
  absl::Mutex mu_;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);  // Most recent first.
  absl::flat_hash_map<std::string, std::list<Entry>::iterator> index_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_TILE_CACHE_H_
