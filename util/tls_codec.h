// Big-endian integers and length-prefixed byte strings as RFC 5246 (TLS)
// encodes them; used by signed log and map roots.
#ifndef TRELLIS_UTIL_TLS_CODEC_H_
#define TRELLIS_UTIL_TLS_CODEC_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace trellis {

// Appends `value` as `bytes` big-endian bytes.
void PutUint(std::string& out, uint64_t value, int bytes);

// Reads TLS-encoded fields from a buffer; any read past the end sets a
// sticky failure instead of reading out of bounds.
class TlsReader {
 public:
  explicit TlsReader(absl::string_view data) : data_(data) {}

  // Reads a `bytes`-byte big-endian unsigned integer.
  uint64_t ReadUint(int bytes);
  // Reads an opaque value preceded by a `length_bytes`-byte length.
  std::string ReadOpaque(int length_bytes);
  // The same, as a view into the buffer (valid as long as the buffer).
  absl::string_view ReadOpaqueView(int length_bytes);

  bool ok() const { return ok_; }
  bool done() const { return ok_ && data_.empty(); }
  size_t remaining() const { return data_.size(); }

 private:
  absl::string_view data_;
  bool ok_ = true;
};

}  // namespace trellis

#endif  // TRELLIS_UTIL_TLS_CODEC_H_
