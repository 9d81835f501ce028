// Fast one-shot digests of a few concatenated parts, with per-thread reusable
// OpenSSL contexts and algorithms fetched once (OpenSSL 3 otherwise looks the
// algorithm up on every call, which dominates hashing of short inputs).
#ifndef TRELLIS_CRYPTO_DIGEST_H_
#define TRELLIS_CRYPTO_DIGEST_H_

#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"

namespace trellis::crypto {

enum class DigestAlgorithm { kSha256, kSha512_256 };

// The digest of the concatenation of `parts` (32 bytes for both algorithms).
std::string Digest(DigestAlgorithm algorithm,
                   std::initializer_list<absl::string_view> parts);

}  // namespace trellis::crypto

#endif  // TRELLIS_CRYPTO_DIGEST_H_
