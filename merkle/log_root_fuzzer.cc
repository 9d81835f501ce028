// libFuzzer target: LogRootV1 as clients and storage read it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "merkle/log_root.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (auto root = trellis::merkle::ParseLogRoot(bytes); root.ok()) {
    trellis::merkle::SerializeLogRoot(*root).IgnoreError();
  }
  return 0;
}
