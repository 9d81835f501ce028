// Keylime's quote string: "r" <base64 TPMS_ATTEST> ":" <base64 TPMT_SIGNATURE>
// ":" <base64 PCR blob>, standard base64, the attestation without its TPM2B
// size prefix and the PCR blob in tpm2-tools' serialized format. "r" is the
// only type Keylime defines.
#ifndef TRELLIS_ATTEST_KEYLIME_QUOTE_H_
#define TRELLIS_ATTEST_KEYLIME_QUOTE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::attest::keylime {

struct Quote {
  std::string attest;     // Marshalled TPMS_ATTEST: the signed bytes.
  std::string signature;  // Marshalled TPMT_SIGNATURE.
  std::string pcr_blob;   // tpm2-tools serialized PCR values.
};

// INVALID_ARGUMENT if the type, the separators or the base64 are wrong.
absl::StatusOr<Quote> ParseQuote(absl::string_view text);
std::string FormatQuote(const Quote& quote);

}  // namespace trellis::attest::keylime

#endif  // TRELLIS_ATTEST_KEYLIME_QUOTE_H_
