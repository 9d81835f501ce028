// The GTA service's signing keys, made and versioned by Trellis: NSK signs
// nonces, TSK tokens, FSK stored records. RSA-3072, kept wrapped by the key
// store (key id "gta/<name>/<version>"), never returned by the service API.
// The newest version signs; an older one still verifies for `overlap` after
// its successor was made, so a rotation does not void outstanding nonces
// and tokens (upstream GTA's does).
#ifndef TRELLIS_GTA_KEY_RING_H_
#define TRELLIS_GTA_KEY_RING_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/key_wrapping.h"
#include "crypto/keys.h"
#include "storage/gta_storage.h"

namespace trellis::gta {

inline constexpr char kNonceKey[] = "NSK";
inline constexpr char kTokenKey[] = "TSK";
inline constexpr char kRecordKey[] = "FSK";
inline constexpr int kDefaultKeyBits = 3072;

// What new TSK versions are: RSA of `bits` (2048, 3072 or 4096) with
// `primes` prime factors. The token signature is most of an attestation's
// cost (bench/README.md); three primes halve it at 3072 bits with tokens
// unchanged for verifiers (RFC 8017 multi-prime; 2 for FIPS 186-5).
struct TokenKeyShape {
  int bits = kDefaultKeyBits;
  int primes = 3;
};

struct SigningKey {
  std::string name;
  uint32_t version = 0;
  std::shared_ptr<const EVP_PKEY> key;
  absl::Time created_at;
  // "<name>-v<version>": the JWS kid of token keys.
  std::string key_id() const;
};

class KeyRing {
 public:
  using Clock = std::function<absl::Time()>;
  // Loads the stored versions (version 1 of a key is made when it is first
  // needed).
  // New TSK versions are `token_key`; NSK and FSK are two-prime RSA-3072,
  // as GTA's. INVALID_ARGUMENT for a shape outside TokenKeyShape's.
  static absl::StatusOr<std::unique_ptr<KeyRing>> Open(
      storage::GtaStorage* storage, crypto::KeyWrapping wrapping,
      absl::Duration overlap, Clock clock = absl::Now,
      TokenKeyShape token_key = {});

  // The version that signs (made if there is none yet).
  absl::StatusOr<SigningKey> Current(const std::string& name);
  // The versions that verify now: the current one and those superseded
  // less than `overlap` ago, newest first.
  std::vector<SigningKey> Verifying(const std::string& name) const;
  // Every version of `name`, newest first (the key manager's export).
  std::vector<SigningKey> Versions(const std::string& name) const;
  // A new version of `name` signs from now on; INVALID_ARGUMENT for a name
  // other than NSK, TSK and FSK.
  absl::StatusOr<SigningKey> Rotate(const std::string& name);

 private:
  KeyRing(storage::GtaStorage* storage, crypto::KeyWrapping wrapping,
          absl::Duration overlap, Clock clock, TokenKeyShape token_key)
      : storage_(storage),
        wrapping_(std::move(wrapping)),
        overlap_(overlap),
        clock_(std::move(clock)),
        token_key_(token_key) {}
  absl::StatusOr<SigningKey> Load(const trellis::GtaKey& stored) const;
  absl::StatusOr<SigningKey> Make(const std::string& name, uint32_t version);
  // Makes and keeps version `version_after` + 1 of `name` (or returns the
  // one a concurrent caller made).
  absl::StatusOr<SigningKey> Add(const std::string& name,
                                 uint32_t version_after);

  storage::GtaStorage* const storage_;
  const crypto::KeyWrapping wrapping_;
  const absl::Duration overlap_;
  const Clock clock_;
  const TokenKeyShape token_key_;
  mutable absl::Mutex mu_;
  // Per name, oldest first.
  std::map<std::string, std::vector<SigningKey>> keys_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_KEY_RING_H_
