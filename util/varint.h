// Unsigned LEB128 varints (as in protobuf), for compact storage records.
#ifndef TRELLIS_UTIL_VARINT_H_
#define TRELLIS_UTIL_VARINT_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace trellis {

inline void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads a varint at `*pos` and advances past it; false if truncated or
// beyond 64 bits.
inline bool GetVarint(absl::string_view data, size_t* pos, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift < 64 && *pos < data.size(); shift += 7) {
    const uint8_t byte = static_cast<uint8_t>(data[(*pos)++]);
    if (shift == 63 && byte > 1) return false;  // Beyond 64 bits.
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      return true;
    }
  }
  return false;
}

}  // namespace trellis

#endif  // TRELLIS_UTIL_VARINT_H_
