// Signs tree heads with a tree's private key, as Trillian does: ECDSA and RSA
// (PKCS#1 v1.5) over SHA-256 of the message, Ed25519 over the message itself.
#ifndef TRELLIS_CRYPTO_SIGNER_H_
#define TRELLIS_CRYPTO_SIGNER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/keys.h"

namespace trellis::crypto {

class Signer {
 public:
  explicit Signer(PrivateKey key) : key_(std::move(key)) {}

  // Signature over `message`. Thread-safe.
  absl::StatusOr<std::string> Sign(absl::string_view message) const;

  const EVP_PKEY& key() const { return *key_; }

 private:
  PrivateKey key_;
};

// OK if `signature` is a valid signature over `message` by the key whose DER
// SubjectPublicKeyInfo is `public_key_der`; INVALID_ARGUMENT for an unusable
// key, FAILED_PRECONDITION for a signature that does not verify.
absl::Status VerifySignature(absl::string_view public_key_der,
                             absl::string_view message,
                             absl::string_view signature);

}  // namespace trellis::crypto

#endif  // TRELLIS_CRYPTO_SIGNER_H_
