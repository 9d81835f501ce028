// A thread-safe LRU map from string keys to shared immutable values, bounded
// by the bytes its entries are said to take.
#ifndef TRELLIS_UTIL_LRU_CACHE_H_
#define TRELLIS_UTIL_LRU_CACHE_H_

#include <cstddef>
#include <list>
#include <memory>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace trellis {

template <typename Value>
class LruCache {
 public:
  explicit LruCache(size_t capacity_bytes) : capacity_(capacity_bytes) {}

  // The value under `key`, or null.
  std::shared_ptr<const Value> Get(const std::string& key) {
    absl::MutexLock lock(&mu_);
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->value;
  }

  // Caches `value` (taking `bytes`); an existing entry is kept unless
  // `replace`.
  void Put(const std::string& key, std::shared_ptr<const Value> value,
           size_t bytes, bool replace) {
    if (capacity_ == 0) return;
    absl::MutexLock lock(&mu_);
    if (auto it = index_.find(key); it != index_.end()) {
      if (!replace) return;
      bytes_ -= it->second->bytes;
      lru_.erase(it->second);
      index_.erase(it);
    }
    bytes_ += bytes + key.size();
    lru_.push_front(Entry{key, std::move(value), bytes + key.size()});
    index_.emplace(key, lru_.begin());
    while (bytes_ > capacity_ && !lru_.empty()) {
      bytes_ -= lru_.back().bytes;
      index_.erase(lru_.back().key);
      lru_.pop_back();
    }
  }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const Value> value;
    size_t bytes;
  };
  const size_t capacity_;
  absl::Mutex mu_;
  size_t bytes_ ABSL_GUARDED_BY(mu_) = 0;
  std::list<Entry> lru_ ABSL_GUARDED_BY(mu_);  // Most recent first.
  absl::flat_hash_map<std::string, typename std::list<Entry>::iterator> index_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis

#endif  // TRELLIS_UTIL_LRU_CACHE_H_
