// libFuzzer target: SPIFFE bundle documents (what a federated trust
// domain's bundle endpoint or an operator's file hands us). Whatever decodes
// must encode again.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "spiffe/bundle_document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  absl::StatusOr<trellis::spiffe::BundleDocument> bundle =
      trellis::spiffe::DecodeBundle(
          absl::string_view(reinterpret_cast<const char*>(data), size));
  if (bundle.ok() && !trellis::spiffe::EncodeBundle(*bundle).ok()) abort();
  return 0;
}
