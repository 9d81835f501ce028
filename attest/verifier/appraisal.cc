#include "attest/verifier/appraisal.h"

#include "absl/strings/escaping.h"
#include "attest/keylime/quote.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "attest/verifier/app_key_verifier.h"

namespace trellis::attest {

Appraisal AppraiseEvidence(const EvidenceRequest& request,
                           const RegisteredAk& ak,
                           const std::optional<TpmClock>& previous) {
  Appraisal appraisal;
  const std::string nonce = absl::HexStringToBytes(request.nonce);
  const TPM2_ALG_ID hash =
      tpm::HashFromName(request.hash_alg).value_or(TPM2_ALG_SHA256);
  absl::StatusOr<keylime::Quote> quote = keylime::ParseQuote(request.quote);
  if (!quote.ok()) {
    appraisal.checks.Add(kQuoteFormatValid, false,
                         std::string(quote.status().message()));
  } else {
    QuoteExpectation expect;
    expect.nonce = nonce;
    expect.hash = hash;
    expect.previous = previous;
    QuoteVerification quoted = VerifyQuote(*quote, ak, expect);
    appraisal.checks.Append(quoted.checks);
    if (quoted.checks.Find(kQuoteFormatValid)->passed) {
      appraisal.clock = quoted.clock;
      appraisal.attest_digest =
          tpm::TpmHash(TPM2_ALG_SHA256, quote->attest).value_or("");
    }
  }
  VerifyAppKeyCertificate(request.app_key_certificate, request.app_key_public,
                          ak, nonce, hash, appraisal.checks);
  return appraisal;
}

}  // namespace trellis::attest
