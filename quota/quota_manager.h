// Write and read quotas, as Trillian's quota specs name them: a call costs
// tokens (a leaf written, an answer read) from the server's bucket
// ("global/write"), its tree's ("trees/ID/write") and each user it is
// charged to ("users/NAME/write", the request's charge_to). It passes only
// if every bucket holds its cost; otherwise it takes nothing and is
// refused with RESOURCE_EXHAUSTED, saying which quota and when it refills.
// Buckets refill with time (token buckets), so quotas are rate limits with
// a burst. Calls from trellisd's own components are not charged.
#ifndef TRELLIS_QUOTA_QUOTA_MANAGER_H_
#define TRELLIS_QUOTA_QUOTA_MANAGER_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "metrics/registry.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "quota/limit.h"
#include "util/rate_limiter.h"

namespace trellis::quota {

enum class Kind { kRead, kWrite };

struct QuotaOptions {
  Limit global_read, global_write;
  // Each tree's own buckets; tree_write_by_tree replaces tree_write for the
  // trees it names.
  Limit tree_read, tree_write;
  TreeLimits tree_write_by_tree;
  // Each charge_to user's own buckets.
  Limit user_read, user_write;
  // Count refusals in the metrics but let the calls pass (to try limits on
  // a running service, as Trillian's --quota_dry_run).
  bool dry_run = false;
  // Users with buckets not yet full again; beyond it, new users are refused.
  size_t max_tracked_users = 100000;
};

// What one call costs.
struct Charge {
  int64_t tree_id = 0;
  Kind kind = Kind::kRead;
  int64_t tokens = 0;
  std::vector<std::string> users;  // charge_to
};

// Limits on charge_to (INVALID_ARGUMENT beyond them).
inline constexpr size_t kMaxChargedUsers = 8;
inline constexpr size_t kMaxUserBytes = 128;

class QuotaManager {
 public:
  QuotaManager(QuotaOptions options, prometheus::Registry* metrics = nullptr,
               RateLimiter::Clock clock = absl::Now);

  // True if any quota is set (else callers need not build charges).
  bool enabled() const { return enabled_; }

  // Takes the charge from every bucket it names, or nothing:
  // RESOURCE_EXHAUSTED naming the exhausted quota; INVALID_ARGUMENT for
  // charge_to beyond the limits above.
  absl::Status Acquire(const Charge& charge);

  // Gives back `tokens` of an acquired charge that did no work (a failed
  // call, duplicate or refused leaves). As in Trillian, only the global
  // bucket is refunded: a tree's and a user's quotas count calls made.
  void Return(const Charge& charge, int64_t tokens);

 private:
  struct Spec {
    RateLimiter* buckets;
    std::string key;     // The bucket: "global", the tree id or the user.
    std::string name;    // Trillian's spec name, for errors.
    std::string series;  // Its metrics label: users are not series.
  };

  // The buckets a charge draws on, users first (Trillian's order).
  std::vector<Spec> SpecsOf(const Charge& charge);
  RateLimiter* TreeBuckets(Kind kind, int64_t tree_id);

  const QuotaOptions options_;
  const bool enabled_;
  metrics::RegistryOrOwn metrics_;
  prometheus::Family<prometheus::Counter>& acquired_;
  prometheus::Family<prometheus::Counter>& returned_;
  prometheus::Family<prometheus::Counter>& refused_;
  // Indexed by Kind; null without a limit.
  std::unique_ptr<RateLimiter> global_[2], tree_[2], user_[2];
  std::map<int64_t, std::unique_ptr<RateLimiter>> tree_write_by_tree_;
};

}  // namespace trellis::quota

#endif  // TRELLIS_QUOTA_QUOTA_MANAGER_H_
