// Verification of a TPM quote against a registered attestation key: every
// check Keylime's verifier makes, and the ones it skips (the signed PCR
// selection against the reported one, the quote's qualifiedSigner against
// the AK's qualified name fixed at registration).
#ifndef TRELLIS_ATTEST_VERIFIER_QUOTE_VERIFIER_H_
#define TRELLIS_ATTEST_VERIFIER_QUOTE_VERIFIER_H_

#include <tss2/tss2_tpm2_types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "attest/keylime/quote.h"
#include "attest/tpm/clock.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/pcr_blob.h"
#include "attest/verifier/checks.h"

namespace trellis::attest {

// An attestation key as registered for a host.
struct RegisteredAk {
  TPMT_PUBLIC public_area{};
  // nameAlg || H(EK's qualified name || AK Name): what the TPM puts in
  // qualifiedSigner when the AK signs.
  std::string qualified_name;
  // The AK as an OpenSSL key, if the caller made it already (verifiers
  // cache it per host: converting costs as much as a quarter of a
  // signature check). Made from public_area when null.
  std::shared_ptr<const EVP_PKEY> key;
};

// `ak.key`, or a new conversion of its public area.
absl::StatusOr<std::shared_ptr<const EVP_PKEY>> AkKey(const RegisteredAk& ak);

// The TPM's clock state from a quote; it must not go backwards for a host.
using tpm::TpmClock;

struct QuoteExpectation {
  std::string nonce;  // The nonce as issued (raw bytes).
  TPM2_ALG_ID hash = TPM2_ALG_SHA256;
  std::optional<TpmClock> previous;  // Of the host's last accepted quote.
};

struct QuoteVerification {
  Checks checks;
  // Set when the quote parsed (the quote_format_valid check passed).
  TPMS_ATTEST attest{};
  tpm::PcrBlob pcrs;
  TpmClock clock;
};

QuoteVerification VerifyQuote(const keylime::Quote& quote,
                              const RegisteredAk& ak,
                              const QuoteExpectation& expect);

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_QUOTE_VERIFIER_H_
