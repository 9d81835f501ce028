// Nonces the verifier issues for quotes: random, single-use, expiring and
// bound to the host they were issued to. Kept in memory: a restart only
// invalidates nonces not yet used, which their hosts then ask for again.
// Bounded per host (a host asking for more loses its oldest outstanding
// nonce, so it cannot fill the store for others) and in total.
#ifndef TRELLIS_ATTEST_VERIFIER_NONCE_STORE_H_
#define TRELLIS_ATTEST_VERIFIER_NONCE_STORE_H_

#include <deque>
#include <functional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace trellis::attest {

struct NonceLimits {
  size_t max_outstanding = 1 << 20;  // All hosts together.
  size_t max_per_host = 16;          // Outstanding for one host.
};

class NonceStore {
 public:
  using Clock = std::function<absl::Time()>;

  explicit NonceStore(absl::Duration lifetime = absl::Minutes(5),
                      NonceLimits limits = {}, Clock clock = absl::Now)
      : lifetime_(lifetime), limits_(limits), clock_(std::move(clock)) {}

  // A new 32-byte nonce for `host_id`. Beyond max_per_host the host's
  // oldest outstanding nonce is dropped; RESOURCE_EXHAUSTED if
  // max_outstanding are outstanding in all.
  absl::StatusOr<std::string> Issue(const std::string& host_id);

  // Uses up `nonce` for `host_id`. PERMISSION_DENIED, saying why, if it was
  // never issued, was issued to another host, has expired or was used.
  absl::Status Consume(const std::string& nonce, const std::string& host_id);

  absl::Duration lifetime() const { return lifetime_; }

 private:
  struct Entry {
    std::string host_id;
    absl::Time expires;
    bool used = false;
  };
  void DropExpiredLocked(absl::Time now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Forgets `nonce` and its place in its host's queue.
  void EraseLocked(const std::string& nonce) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const absl::Duration lifetime_;
  const NonceLimits limits_;
  const Clock clock_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> nonces_ ABSL_GUARDED_BY(mu_);
  // Each host's nonces, oldest first.
  absl::flat_hash_map<std::string, std::deque<std::string>> by_host_
      ABSL_GUARDED_BY(mu_);
  absl::Time next_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_NONCE_STORE_H_
