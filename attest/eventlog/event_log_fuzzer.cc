// libFuzzer target: TCG crypto-agile event logs.
#include <cstddef>
#include <cstdint>
#include <string>

#include "attest/eventlog/event_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trellis::attest::eventlog;
  auto log =
      Parse(absl::string_view(reinterpret_cast<const char*>(data), size));
  if (log.ok()) {
    for (const auto& [alg, unused] : log->algorithms) {
      Replay(*log, alg).IgnoreError();
    }
  }
  return 0;
}
