// Per-key token buckets (e.g. attestations per client address): `rate`
// tokens a second, at most `burst` saved up. Keys idle long enough to be
// full again are forgotten, so the table stays as small as the set of
// recently active keys (bounded by `max_keys`: beyond it, new keys are
// refused until old ones are forgotten). A call may cost several tokens.
#ifndef TRELLIS_UTIL_RATE_LIMITER_H_
#define TRELLIS_UTIL_RATE_LIMITER_H_

#include <algorithm>
#include <functional>
#include <string>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace trellis {

class RateLimiter {
 public:
  using Clock = std::function<absl::Time()>;

  RateLimiter(double rate, double burst, size_t max_keys = 100000,
              Clock clock = absl::Now)
      : rate_(rate),
        burst_(burst),
        max_keys_(max_keys),
        clock_(std::move(clock)) {}

  // Takes one token for `key`; false if it has none.
  bool Allow(const std::string& key) { return Take(key, 1); }

  // Takes `cost` tokens for `key`, or none: false if it has fewer, with
  // what it has in `*available` (if given).
  bool Take(const std::string& key, double cost, double* available = nullptr) {
    const absl::Time now = clock_();
    absl::MutexLock lock(&mu_);
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      if (buckets_.size() >= max_keys_) Forget(now);
      if (buckets_.size() >= max_keys_) {
        if (available != nullptr) *available = 0;
        return false;
      }
      it = buckets_.emplace(key, Bucket{burst_, now}).first;
    }
    Bucket& bucket = it->second;
    // A wall clock stepped back (NTP, a resumed VM) refills nothing rather
    // than draining the bucket for as long as the step.
    const absl::Duration elapsed =
        std::max(absl::ZeroDuration(), now - bucket.at);
    bucket.tokens = std::min(
        burst_, bucket.tokens + absl::ToDoubleSeconds(elapsed) * rate_);
    bucket.at = now;
    if (bucket.tokens < cost) {
      if (available != nullptr) *available = bucket.tokens;
      return false;
    }
    bucket.tokens -= cost;
    return true;
  }

  // Gives back tokens taken for work not done (never beyond the burst).
  void Give(const std::string& key, double cost) {
    absl::MutexLock lock(&mu_);
    auto it = buckets_.find(key);
    if (it == buckets_.end()) return;  // Forgotten: full already.
    it->second.tokens = std::min(burst_, it->second.tokens + cost);
  }

  double rate() const { return rate_; }
  double burst() const { return burst_; }

 private:
  struct Bucket {
    double tokens;
    absl::Time at;
  };

  // Drops buckets that would be full by now.
  void Forget(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const absl::Duration refill = absl::Seconds(burst_ / rate_);
    absl::erase_if(buckets_, [&](const auto& entry) {
      return now - entry.second.at >= refill;
    });
  }

  const double rate_;
  const double burst_;
  const size_t max_keys_;
  const Clock clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis

#endif  // TRELLIS_UTIL_RATE_LIMITER_H_
