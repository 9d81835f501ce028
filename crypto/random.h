// Cryptographically secure random values (OpenSSL's DRBG).
#ifndef TRELLIS_CRYPTO_RANDOM_H_
#define TRELLIS_CRYPTO_RANDOM_H_

#include <cstddef>
#include <string>

namespace trellis::crypto {

// `n` random bytes. Aborts if the DRBG fails: without secure randomness no
// key, token or serial may be made.
std::string RandomBytes(size_t n);

// A random version-4 UUID in its canonical lowercase form.
std::string RandomUuid();

}  // namespace trellis::crypto

#endif  // TRELLIS_CRYPTO_RANDOM_H_
