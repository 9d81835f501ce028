// A self-signed TLS certificate for services that must speak HTTPS out of
// the box (the verifier API on loopback): clients pin it.
#ifndef TRELLIS_CRYPTO_SELF_SIGNED_H_
#define TRELLIS_CRYPTO_SELF_SIGNED_H_

#include <string>

#include "absl/status/statusor.h"

namespace trellis::crypto {

struct CertificateAndKey {
  std::string certificate_pem;
  std::string private_key_pem;
};

// An ECDSA P-256 certificate for `common_name`, valid ten years, for
// localhost and 127.0.0.1.
absl::StatusOr<CertificateAndKey> SelfSignedCertificate(
    const std::string& common_name);

}  // namespace trellis::crypto

#endif  // TRELLIS_CRYPTO_SELF_SIGNED_H_
