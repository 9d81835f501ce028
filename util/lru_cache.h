// A thread-safe LRU map from string keys to shared immutable values, bounded
// by the bytes its entries are said to take. Sharded by key so that readers
// of different keys do not contend on one lock.
#ifndef TRELLIS_UTIL_LRU_CACHE_H_
#define TRELLIS_UTIL_LRU_CACHE_H_

#include <array>
#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/hash/hash.h"
#include "absl/synchronization/mutex.h"

namespace trellis {

template <typename Value>
class LruCache {
 public:
  explicit LruCache(size_t capacity_bytes)
      : shard_capacity_(capacity_bytes / kShards) {}

  // The value under `key`, or null.
  std::shared_ptr<const Value> Get(const std::string& key) {
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    auto it = shard.index.find(key);
    if (it == shard.index.end()) return nullptr;
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    return it->second->value;
  }

  // Caches `value` (taking `bytes`); an existing entry is kept unless
  // `replace`.
  void Put(const std::string& key, std::shared_ptr<const Value> value,
           size_t bytes, bool replace) {
    if (shard_capacity_ == 0) return;
    Shard& shard = ShardFor(key);
    absl::MutexLock lock(&shard.mu);
    if (auto it = shard.index.find(key); it != shard.index.end()) {
      if (!replace) return;
      shard.bytes -= it->second->bytes;
      shard.lru.erase(it->second);
      shard.index.erase(it);
    }
    shard.bytes += bytes + key.size();
    shard.lru.push_front(Entry{key, std::move(value), bytes + key.size()});
    shard.index.emplace(key, shard.lru.begin());
    while (shard.bytes > shard_capacity_ && !shard.lru.empty()) {
      shard.bytes -= shard.lru.back().bytes;
      shard.index.erase(shard.lru.back().key);
      shard.lru.pop_back();
    }
  }

 private:
  static constexpr size_t kShards = 16;
  struct Entry {
    std::string key;
    std::shared_ptr<const Value> value;
    size_t bytes;
  };
  struct Shard {
    absl::Mutex mu;
    size_t bytes ABSL_GUARDED_BY(mu) = 0;
    std::list<Entry> lru ABSL_GUARDED_BY(mu);  // Most recent first.
    absl::flat_hash_map<std::string, typename std::list<Entry>::iterator> index
        ABSL_GUARDED_BY(mu);
  };

  Shard& ShardFor(const std::string& key) {
    return shards_[absl::Hash<std::string>()(key) % kShards];
  }

  const size_t shard_capacity_;
  std::array<Shard, kShards> shards_;
};

}  // namespace trellis

#endif  // TRELLIS_UTIL_LRU_CACHE_H_
