// GTA API keys: `register` makes a User-Id and a 32-character API key;
// the key is stored only as PBKDF2-HMAC-SHA256 (16-byte salt, 10,000
// iterations, as GTA) and compared in constant time; the holder of a key
// may rotate it. Verified keys are remembered (as a SHA-256, compared in
// constant time) so that steady traffic does not pay PBKDF2 per request.
#ifndef TRELLIS_GTA_API_KEYS_H_
#define TRELLIS_GTA_API_KEYS_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "storage/gta_storage.h"

namespace trellis::gta {

struct ApiCredentials {
  std::string user_id;
  std::string api_key;
};

class ApiKeyManager {
 public:
  explicit ApiKeyManager(storage::GtaStorage* storage) : storage_(storage) {}

  // A new user (a random UUID) and key.
  absl::StatusOr<ApiCredentials> Register();
  // A new key for a caller holding the current one (UNAUTHENTICATED
  // otherwise); the old key stops working.
  absl::StatusOr<ApiCredentials> Rotate(const std::string& user_id,
                                        const std::string& api_key);
  // UNAUTHENTICATED unless `api_key` is `user_id`'s current key.
  absl::Status Authenticate(const std::string& user_id,
                            const std::string& api_key);

 private:
  absl::Status Store(const std::string& user_id, const std::string& api_key);

  storage::GtaStorage* const storage_;
  absl::Mutex mu_;
  // user -> SHA-256 of the key last verified, and the key generation it
  // was verified under (Store bumps it: a verification that raced a
  // rotation is not remembered).
  struct Verified {
    std::string digest;
    uint64_t generation;
  };
  absl::flat_hash_map<std::string, Verified> verified_ ABSL_GUARDED_BY(mu_);
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_API_KEYS_H_
