// The stateless core of an appraisal: what a verdict depends on besides the
// verifier's state (which AKs are registered, which nonces are spent, the
// host's last clock). The live appraiser and the offline replay both run
// exactly this, so a replay reaches the logged verdict unless the evidence,
// the policy or the verifier changed.
#ifndef TRELLIS_ATTEST_VERIFIER_APPRAISAL_H_
#define TRELLIS_ATTEST_VERIFIER_APPRAISAL_H_

#include <cstdint>
#include <optional>
#include <string>

#include "attest/verifier/checks.h"
#include "attest/verifier/evidence_request.h"
#include "attest/verifier/policy.h"
#include "attest/verifier/quote_verifier.h"
#include "nlohmann/json.hpp"

namespace trellis::attest {

struct Appraisal {
  Checks checks;
  std::optional<TpmClock> clock;  // Set if the quote parsed.
  std::string attest_digest;      // SHA-256 of the TPMS_ATTEST, if parsed.
  Integrity integrity = Integrity::kFailed;
  bool verified = false;
  // attested_claims of the Unified-Identity design, plus ours:
  // host_integrity_status, geolocation (and geolocation_details with
  // whether the TPM attests it), gpu_metrics_health (self-reported).
  nlohmann::json claims;
};

// Quote, app key certificate and integrity checks of `request` against
// `ak` and `policy`, with the host's last accepted clock (nullopt: none
// known). `extra` are checks the caller made first (AK registered, nonce
// fresh); they take part in the decision.
Appraisal AppraiseEvidence(const EvidenceRequest& request,
                           const RegisteredAk& ak,
                           const std::optional<TpmClock>& previous,
                           const Policy& policy, const Checks& extra = {});

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_APPRAISAL_H_
