#include "crypto/random.h"

#include <openssl/rand.h>

#include <cstdint>
#include <cstdlib>

namespace trellis::crypto {

std::string RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 &&
      RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), n) != 1) {
    std::abort();
  }
  return out;
}

std::string RandomUuid() {
  std::string bytes = RandomBytes(16);
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);  // Version 4.
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122.
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[static_cast<uint8_t>(bytes[i]) >> 4]);
    out.push_back(kHex[static_cast<uint8_t>(bytes[i]) & 0x0f]);
  }
  return out;
}

}  // namespace trellis::crypto
