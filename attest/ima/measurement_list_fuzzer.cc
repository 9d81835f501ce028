// libFuzzer target: IMA measurement lists, ASCII and binary. (Runtime
// policies come from operators; their regular expressions are trusted.)
#include <cstddef>
#include <cstdint>
#include <string>

#include "attest/ima/measurement_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trellis::attest::ima;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (auto list : {ParseAscii(bytes), ParseBinary(bytes)}) {
    if (!list.ok()) continue;
    Replay(*list, TPM2_ALG_SHA256).IgnoreError();
    for (const Entry& e : *list) FormatAscii(e);
  }
  return 0;
}
