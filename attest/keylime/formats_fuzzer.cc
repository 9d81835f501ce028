// libFuzzer target: Keylime quote strings and app key certificates.
#include <cstddef>
#include <cstdint>
#include <string>

#include "attest/keylime/app_key_certificate.h"
#include "attest/keylime/quote.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trellis::attest::keylime;
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto quote = ParseQuote(text); quote.ok()) FormatQuote(*quote);
  if (auto cert = DecodeAppKeyCertificate(text); cert.ok()) {
    EncodeAppKeyCertificate(*cert);
  }
  return 0;
}
