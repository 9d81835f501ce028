#include "util/tls_codec.h"

namespace trellis {

void PutUint(std::string& out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) {
    out.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
}

uint64_t TlsReader::ReadUint(int bytes) {
  if (!ok_ || data_.size() < static_cast<size_t>(bytes)) {
    ok_ = false;
    return 0;
  }
  uint64_t value = 0;
  for (int i = 0; i < bytes; ++i) {
    value = (value << 8) | static_cast<uint8_t>(data_[i]);
  }
  data_.remove_prefix(bytes);
  return value;
}

std::string TlsReader::ReadOpaque(int length_bytes) {
  return std::string(ReadOpaqueView(length_bytes));
}

absl::string_view TlsReader::ReadOpaqueView(int length_bytes) {
  const uint64_t length = ReadUint(length_bytes);
  if (!ok_ || data_.size() < length) {
    ok_ = false;
    return {};
  }
  absl::string_view value = data_.substr(0, length);
  data_.remove_prefix(length);
  return value;
}

}  // namespace trellis
