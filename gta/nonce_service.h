// GTA challenge nonces: {"iat", "value", "signature"} with 64 random bytes
// as value and an NSK RSA-PSS (SHA-256) signature over the decimal iat
// followed by the base64 value, valid for a configurable time (120 s by
// default). Stricter than GTA: a nonce is accepted once (GTA accepts
// replays within its window), and nonces issued before this process
// started are refused, so no replay slips through across a restart
// (clients simply ask again).
#ifndef TRELLIS_GTA_NONCE_SERVICE_H_
#define TRELLIS_GTA_NONCE_SERVICE_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "gta/key_ring.h"
#include "nlohmann/json.hpp"

namespace trellis::gta {

inline constexpr absl::Duration kDefaultNonceValidity = absl::Seconds(120);

class NonceService {
 public:
  using Clock = std::function<absl::Time()>;
  NonceService(KeyRing* keys, absl::Duration validity, Clock clock = absl::Now);

  // A new nonce object.
  absl::StatusOr<nlohmann::json> Issue();
  // Accepts the nonce `json_text` (its JSON text, as the attester quoted
  // it) once: INVALID_ARGUMENT "Invalid nonce." for a malformed or forged
  // one, or one already used or older than this process; "Nonce expired."
  // past its validity.
  absl::Status Consume(const std::string& json_text);

 private:
  KeyRing* const keys_;
  const absl::Duration validity_;
  const Clock clock_;
  const absl::Time started_;
  absl::Mutex mu_;
  // Values accepted, until they would have expired anyway.
  absl::flat_hash_map<std::string, absl::Time> used_ ABSL_GUARDED_BY(mu_);
  absl::Time last_prune_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
};

// The bytes an NSK signature covers.
std::string NonceSigningInput(int64_t iat, const std::string& value_base64);

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_NONCE_SERVICE_H_
