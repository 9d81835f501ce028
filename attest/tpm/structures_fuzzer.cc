// libFuzzer target: every TPM structure parser on arbitrary bytes. Parsed
// structures are marshalled again and their keys and names derived, so
// whatever a parser accepts must be safe to use.
#include <cstddef>
#include <cstdint>
#include <string>

#include "attest/tpm/keys.h"
#include "attest/tpm/pcr_blob.h"
#include "attest/tpm/structures.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trellis::attest::tpm;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  for (auto parsed : {ParsePublic(bytes), ParsePublicArea(bytes)}) {
    if (!parsed.ok()) continue;
    MarshalPublic(*parsed);
    ObjectName(*parsed).IgnoreError();
    if (auto key = ToOpenSslKey(*parsed); key.ok())
      ToPem(*parsed).IgnoreError();
  }
  if (auto attest = ParseAttest(bytes); attest.ok()) {
    MarshalAttest(*attest);
    SelectedPcrs(attest->attested.quote.pcrSelect);
    DescribeSelection(attest->attested.quote.pcrSelect);
  }
  if (auto signature = ParseSignature(bytes); signature.ok()) {
    MarshalSignature(*signature);
  }
  if (auto selection = ParsePcrSelection(bytes); selection.ok()) {
    DescribeSelection(*selection);
  }
  if (auto blob = ParsePcrBlob(bytes); blob.ok()) {
    SerializePcrBlob(blob->values).IgnoreError();
  }
  return 0;
}
