// Nonces the verifier issues for quotes: random, single-use, expiring and
// bound to the host they were issued to. Kept in memory: a restart only
// invalidates nonces not yet used, which their hosts then ask for again.
#ifndef TRELLIS_ATTEST_VERIFIER_NONCE_STORE_H_
#define TRELLIS_ATTEST_VERIFIER_NONCE_STORE_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace trellis::attest {

class NonceStore {
 public:
  explicit NonceStore(absl::Duration lifetime = absl::Minutes(5),
                      size_t max_outstanding = 1 << 20)
      : lifetime_(lifetime), max_outstanding_(max_outstanding) {}

  // A new 32-byte nonce for `host_id`; RESOURCE_EXHAUSTED if too many are
  // outstanding.
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

  const absl::Duration lifetime_;
  const size_t max_outstanding_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Entry> nonces_ ABSL_GUARDED_BY(mu_);
  absl::Time next_sweep_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_NONCE_STORE_H_
