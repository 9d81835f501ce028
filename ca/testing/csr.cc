#include "ca/testing/csr.h"

#include <openssl/ec.h>

#include <cstdlib>

#include "ca/csr.h"

namespace trellis::ca::testing {

crypto::PrivateKey NewP256Key() {
  crypto::PrivateKey key(EVP_EC_gen("P-256"));
  if (key == nullptr) std::abort();
  return key;
}

std::string MakeCsr(EVP_PKEY* key, const std::string& sans, const EVP_MD* md) {
  absl::StatusOr<std::string> csr = MakeCsrWithSans(*key, sans, md);
  if (!csr.ok()) std::abort();
  return *csr;
}

}  // namespace trellis::ca::testing
