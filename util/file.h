// Whole-file reads.
#ifndef TRELLIS_UTIL_FILE_H_
#define TRELLIS_UTIL_FILE_H_

#include <fstream>
#include <iterator>
#include <string>

#include "absl/status/statusor.h"

namespace trellis {

// The contents of `path`; NOT_FOUND if it cannot be opened.
inline absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError("cannot read " + path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

}  // namespace trellis

#endif  // TRELLIS_UTIL_FILE_H_
