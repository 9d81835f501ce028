#include "attest/verifier/nonce_store.h"

#include <openssl/rand.h>

#include "absl/time/clock.h"

namespace trellis::attest {

void NonceStore::DropExpiredLocked(absl::Time now) {
  if (now < next_sweep_) return;
  absl::erase_if(nonces_, [now](const auto& entry) {
    return entry.second.expires <= now;
  });
  next_sweep_ = now + lifetime_ / 4;
}

absl::StatusOr<std::string> NonceStore::Issue(const std::string& host_id) {
  std::string nonce(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()),
                 static_cast<int>(nonce.size())) != 1) {
    return absl::InternalError("no randomness");
  }
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  DropExpiredLocked(now);
  if (nonces_.size() >= max_outstanding_) {
    return absl::ResourceExhaustedError("too many outstanding nonces");
  }
  nonces_[nonce] = Entry{host_id, now + lifetime_};
  return nonce;
}

absl::Status NonceStore::Consume(const std::string& nonce,
                                 const std::string& host_id) {
  const absl::Time now = absl::Now();
  absl::MutexLock lock(&mu_);
  auto it = nonces_.find(nonce);
  if (it == nonces_.end()) {
    return absl::PermissionDeniedError(
        "nonce was not issued by this verifier (or expired long ago)");
  }
  Entry& entry = it->second;
  if (entry.used) return absl::PermissionDeniedError("nonce already used");
  if (entry.expires <= now) return absl::PermissionDeniedError("nonce expired");
  if (entry.host_id != host_id) {
    return absl::PermissionDeniedError("nonce was issued to another host");
  }
  entry.used = true;  // Kept until it expires, to say why a reuse fails.
  return absl::OkStatus();
}

}  // namespace trellis::attest
