// RSASSA-PSS signatures with the salt as long as the digest (JWS PS256,
// PS384, PS512; openEuler GTA's nonce and token signatures).
#ifndef TRELLIS_CRYPTO_RSA_PSS_H_
#define TRELLIS_CRYPTO_RSA_PSS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/keys.h"

namespace trellis::crypto {

enum class PssHash { kSha256, kSha384, kSha512 };

// INVALID_ARGUMENT if `key` is not an RSA key.
absl::StatusOr<std::string> SignRsaPss(const EVP_PKEY& key, PssHash hash,
                                       absl::string_view message);
// OK if `signature` verifies; FAILED_PRECONDITION if it does not,
// INVALID_ARGUMENT for a key that is not RSA.
absl::Status VerifyRsaPss(const EVP_PKEY& key, PssHash hash,
                          absl::string_view message,
                          absl::string_view signature);

}  // namespace trellis::crypto

#endif  // TRELLIS_CRYPTO_RSA_PSS_H_
