// Certificate requests as SPIRE agents make them: subject C=US, O=SPIRE,
// the SPIFFE ID (if any) as the one URI SAN.
#ifndef TRELLIS_CA_CSR_H_
#define TRELLIS_CA_CSR_H_

#include <openssl/evp.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::ca {

// A DER PKCS#10 request for `key`'s public key, signed by it with SHA-256;
// `spiffe_id` empty: no subjectAltName (an agent's own CSR).
absl::StatusOr<std::string> MakeCsr(EVP_PKEY& key, absl::string_view spiffe_id);

// The same with any subjectAltName in OpenSSL's configuration syntax
// ("URI:spiffe://td/x,DNS:host"; empty: none) and digest.
absl::StatusOr<std::string> MakeCsrWithSans(EVP_PKEY& key,
                                            const std::string& sans,
                                            const EVP_MD* md);

}  // namespace trellis::ca

#endif  // TRELLIS_CA_CSR_H_
