// Certificate requests for tests, made as SPIRE agents make them.
#ifndef TRELLIS_CA_TESTING_CSR_H_
#define TRELLIS_CA_TESTING_CSR_H_

#include <openssl/evp.h>

#include <string>

#include "crypto/keys.h"

namespace trellis::ca::testing {

// A fresh ECDSA P-256 key (SPIRE agents' default).
crypto::PrivateKey NewP256Key();

// A DER PKCS#10 request with subject C=US, O=SPIRE signed by `key` with
// `md`; `sans` (OpenSSL's config syntax, e.g. "URI:spiffe://td/x") if not
// empty. Aborts on an OpenSSL failure.
std::string MakeCsr(EVP_PKEY* key, const std::string& sans = "",
                    const EVP_MD* md = EVP_sha256());

}  // namespace trellis::ca::testing

#endif  // TRELLIS_CA_TESTING_CSR_H_
