// libFuzzer target: the verifier's evidence request parser on arbitrary
// JSON text.
#include <cstddef>
#include <cstdint>
#include <string>

#include "attest/verifier/evidence_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const nlohmann::json body = nlohmann::json::parse(data, data + size, nullptr,
                                                    /*allow_exceptions=*/false);
  if (auto request = trellis::attest::ParseEvidenceRequest(body);
      request.ok()) {
    trellis::attest::CanonicalEvidence(*request);
  }
  return 0;
}
