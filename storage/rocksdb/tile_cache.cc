#include "storage/rocksdb/tile_cache.h"

namespace trellis::storage::rocksdb {

std::shared_ptr<const std::string> TileCache::Get(const std::string& key) {
  absl::MutexLock lock(&mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void TileCache::AddIfAbsent(const std::string& key,
                            std::shared_ptr<const std::string> tile) {
  Insert(key, std::move(tile), /*replace=*/false);
}

void TileCache::Replace(const std::string& key,
                        std::shared_ptr<const std::string> tile) {
  Insert(key, std::move(tile), /*replace=*/true);
}

void TileCache::Insert(const std::string& key,
                       std::shared_ptr<const std::string> tile, bool replace) {
  if (capacity_ == 0) return;
  absl::MutexLock lock(&mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    if (!replace) return;
    bytes_ -= it->second->second->size() + key.size();
    lru_.erase(it->second);
    index_.erase(it);
  }
  bytes_ += tile->size() + key.size();
  lru_.emplace_front(key, std::move(tile));
  index_.emplace(key, lru_.begin());
  while (bytes_ > capacity_ && !lru_.empty()) {
    const Entry& last = lru_.back();
    bytes_ -= last.second->size() + last.first.size();
    index_.erase(last.first);
    lru_.pop_back();
  }
}

}  // namespace trellis::storage::rocksdb
