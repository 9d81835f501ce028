// SHA-256 on the x86 SHA extensions, for the short inputs Merkle trees hash
// (one or two blocks): OpenSSL's EVP layer costs about as much per call as
// the compression itself. Digest() uses this when the CPU supports it. The
// intrinsics are built only for x86-64 (per function, no special compiler
// flags); elsewhere CpuHasShaExtensions() is false and Sha256ShaNi() falls
// back to OpenSSL.
#ifndef TRELLIS_CRYPTO_SHA256_SHANI_H_
#define TRELLIS_CRYPTO_SHA256_SHANI_H_

#include <cstdint>
#include <initializer_list>

#include "absl/strings/string_view.h"

namespace trellis::crypto {

// True if this CPU has the SHA extensions (and SSSE3 / SSE4.1) they need.
bool CpuHasShaExtensions();

// Writes the SHA-256 of the concatenation of `parts` to `out` (32 bytes).
// On x86-64, only call when CpuHasShaExtensions().
void Sha256ShaNi(std::initializer_list<absl::string_view> parts, uint8_t* out);

}  // namespace trellis::crypto

#endif  // TRELLIS_CRYPTO_SHA256_SHANI_H_
