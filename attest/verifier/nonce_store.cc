#include "attest/verifier/nonce_store.h"

#include <openssl/rand.h>

#include <algorithm>

namespace trellis::attest {

void NonceStore::EraseLocked(const std::string& nonce) {
  auto it = nonces_.find(nonce);
  if (it == nonces_.end()) return;
  auto host = by_host_.find(it->second.host_id);
  if (host != by_host_.end()) {
    std::deque<std::string>& queue = host->second;
    queue.erase(std::find(queue.begin(), queue.end(), nonce));
    if (queue.empty()) by_host_.erase(host);
  }
  nonces_.erase(it);
}

void NonceStore::DropExpiredLocked(absl::Time now) {
  if (now < next_sweep_) return;
  // Each host's queue is in issue order, so expired nonces are at its front.
  for (auto host = by_host_.begin(); host != by_host_.end();) {
    std::deque<std::string>& queue = host->second;
    while (!queue.empty() && nonces_.at(queue.front()).expires <= now) {
      nonces_.erase(queue.front());
      queue.pop_front();
    }
    if (queue.empty()) {
      by_host_.erase(host++);
    } else {
      ++host;
    }
  }
  next_sweep_ = now + lifetime_ / 4;
}

absl::StatusOr<std::string> NonceStore::Issue(const std::string& host_id) {
  std::string nonce(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()),
                 static_cast<int>(nonce.size())) != 1) {
    return absl::InternalError("no randomness");
  }
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  DropExpiredLocked(now);
  std::deque<std::string>& queue = by_host_[host_id];
  while (queue.size() >= limits_.max_per_host && !queue.empty()) {
    nonces_.erase(queue.front());
    queue.pop_front();
  }
  if (nonces_.size() >= limits_.max_outstanding) {
    if (queue.empty()) by_host_.erase(host_id);
    return absl::ResourceExhaustedError("too many outstanding nonces");
  }
  nonces_[nonce] = Entry{host_id, now + lifetime_};
  queue.push_back(nonce);
  return nonce;
}

absl::Status NonceStore::Consume(const std::string& nonce,
                                 const std::string& host_id) {
  const absl::Time now = clock_();
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
