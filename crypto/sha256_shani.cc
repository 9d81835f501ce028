#include "crypto/sha256_shani.h"

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#else
#include <openssl/evp.h>

#include <cstdlib>
#endif

#include <algorithm>
#include <cstring>

namespace trellis::crypto {

#if defined(__x86_64__)

namespace {

// FIPS 180-4 section 4.2.2.
alignas(16) constexpr uint32_t kRoundConstants[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
    0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
    0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
    0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
    0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
    0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
    0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
    0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

// FIPS 180-4 section 5.3.3.
constexpr uint32_t kInitialState[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372,
                                       0xa54ff53a, 0x510e527f, 0x9b05688c,
                                       0x1f83d9ab, 0x5be0cd19};

// The instructions keep the state as the register pair (A,B,E,F),
// (C,D,G,H); these convert from and to the FIPS word order.
__attribute__((target("sha,sse4.1,ssse3"))) inline void LoadState(
    const uint32_t state[8], __m128i& abef, __m128i& cdgh) {
  const __m128i dcba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(state));
  const __m128i hgfe =
      _mm_loadu_si128(reinterpret_cast<const __m128i*>(state + 4));
  const __m128i cdab = _mm_shuffle_epi32(dcba, 0xb1);
  const __m128i efgh = _mm_shuffle_epi32(hgfe, 0x1b);
  abef = _mm_alignr_epi8(cdab, efgh, 8);
  cdgh = _mm_blend_epi16(efgh, cdab, 0xf0);
}

__attribute__((target("sha,sse4.1,ssse3"))) inline void StoreState(
    uint32_t state[8], __m128i abef, __m128i cdgh) {
  const __m128i feba = _mm_shuffle_epi32(abef, 0x1b);
  const __m128i dchg = _mm_shuffle_epi32(cdgh, 0xb1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state),
                   _mm_blend_epi16(feba, dchg, 0xf0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(state + 4),
                   _mm_alignr_epi8(dchg, feba, 8));
}

// Runs the compression function over `blocks` 64-byte blocks. The
// instructions keep the state as the register pair (A,B,E,F), (C,D,G,H).
__attribute__((target("sha,sse4.1,ssse3"))) void Compress(uint32_t state[8],
                                                          const uint8_t* data,
                                                          size_t blocks) {
  // Message words are big-endian; this shuffle swaps each 32-bit lane.
  const __m128i byte_swap =
      _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i abef, cdgh;
  LoadState(state, abef, cdgh);

  for (; blocks > 0; --blocks, data += 64) {
    const __m128i abef_in = abef;
    const __m128i cdgh_in = cdgh;
    // w[i % 4] holds message words 4i .. 4i+3 of the current group of four
    // rounds; the schedule needs the previous four groups.
    __m128i w[4];
#pragma GCC unroll 16
    for (int i = 0; i < 16; ++i) {
      __m128i words;
      if (i < 4) {
        words = _mm_shuffle_epi8(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(data + 16 * i)),
            byte_swap);
      } else {
        // W[t] = s1(W[t-2]) + W[t-7] + s0(W[t-15]) + W[t-16].
        __m128i t = _mm_sha256msg1_epu32(w[i % 4], w[(i + 1) % 4]);
        t = _mm_add_epi32(t,
                          _mm_alignr_epi8(w[(i + 3) % 4], w[(i + 2) % 4], 4));
        words = _mm_sha256msg2_epu32(t, w[(i + 3) % 4]);
      }
      w[i % 4] = words;
      __m128i k =
          _mm_add_epi32(words, _mm_load_si128(reinterpret_cast<const __m128i*>(
                                   kRoundConstants + 4 * i)));
      cdgh = _mm_sha256rnds2_epu32(cdgh, abef, k);
      k = _mm_shuffle_epi32(k, 0x0e);
      abef = _mm_sha256rnds2_epu32(abef, cdgh, k);
    }
    abef = _mm_add_epi32(abef, abef_in);
    cdgh = _mm_add_epi32(cdgh, cdgh_in);
  }

  StoreState(state, abef, cdgh);
}

}  // namespace

bool CpuHasShaExtensions() {
  static const bool has = [] {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return false;
    const bool ssse3 = ecx & (1u << 9);
    const bool sse41 = ecx & (1u << 19);
    if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return false;
    const bool sha = ebx & (1u << 29);
    return ssse3 && sse41 && sha;
  }();
  return has;
}

namespace {

// Writes the big-endian digest words of `state` to `out`.
void Output(const uint32_t state[8], uint8_t* out) {
  for (int i = 0; i < 8; ++i) {
    out[4 * i] = static_cast<uint8_t>(state[i] >> 24);
    out[4 * i + 1] = static_cast<uint8_t>(state[i] >> 16);
    out[4 * i + 2] = static_cast<uint8_t>(state[i] >> 8);
    out[4 * i + 3] = static_cast<uint8_t>(state[i]);
  }
}

// Pads the `length`-byte message ending at buf[at] in place: one or two
// blocks in all. Returns the number of blocks.
size_t Pad(uint8_t* buf, size_t at, uint64_t length) {
  const size_t padded = at + 9 <= 64 ? 64 : 128;
  buf[at] = 0x80;
  std::memset(buf + at + 1, 0, padded - at - 1 - 8);
  const uint64_t bits = length * 8;
  for (int i = 0; i < 8; ++i) {
    buf[padded - 1 - i] = static_cast<uint8_t>(bits >> (8 * i));
  }
  return padded / 64;
}

}  // namespace

void Sha256ShaNi(std::initializer_list<absl::string_view> parts, uint8_t* out) {
  uint32_t state[8];
  std::memcpy(state, kInitialState, sizeof(state));
  size_t length = 0;
  for (absl::string_view part : parts) length += part.size();
  if (length <= 128 - 9) {
    // The common case here (Merkle nodes, PCR extends, short records): the
    // message and its padding in one buffer, one pass of the compression
    // loop over both blocks.
    uint8_t buf[128];
    size_t at = 0;
    for (absl::string_view part : parts) {
      std::memcpy(buf + at, part.data(), part.size());
      at += part.size();
    }
    Compress(state, buf, Pad(buf, at, length));
    Output(state, out);
    return;
  }
  uint8_t block[128];  // Room for the final block plus padding.
  size_t buffered = 0;
  uint64_t total = 0;
  for (absl::string_view part : parts) {
    const uint8_t* data = reinterpret_cast<const uint8_t*>(part.data());
    size_t size = part.size();
    total += size;
    if (buffered > 0) {
      const size_t take = std::min(size, 64 - buffered);
      std::memcpy(block + buffered, data, take);
      buffered += take;
      data += take;
      size -= take;
      if (buffered < 64) continue;
      Compress(state, block, 1);
      buffered = 0;
    }
    if (size >= 64) {
      Compress(state, data, size / 64);
      data += size / 64 * 64;
      size %= 64;
    }
    std::memcpy(block, data, size);
    buffered = size;
  }
  Compress(state, block, Pad(block, buffered, total));
  Output(state, out);
}

#else  // !defined(__x86_64__)

// No SHA extensions: Digest() uses OpenSSL, and so does this.
bool CpuHasShaExtensions() { return false; }

void Sha256ShaNi(std::initializer_list<absl::string_view> parts, uint8_t* out) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      ctx != nullptr && EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1;
  for (absl::string_view part : parts) {
    ok = ok && EVP_DigestUpdate(ctx, part.data(), part.size()) == 1;
  }
  ok = ok && EVP_DigestFinal_ex(ctx, out, nullptr) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok) std::abort();  // Only fails on allocation failure.
}

#endif  // defined(__x86_64__)

}  // namespace trellis::crypto
