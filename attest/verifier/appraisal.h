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
#include "attest/verifier/quote_verifier.h"

namespace trellis::attest {

// The only policy so far: every check must pass.
inline constexpr char kDefaultPolicyId[] = "default";
inline constexpr int64_t kDefaultPolicyVersion = 1;
inline constexpr char kDefaultPolicyText[] = "{\"require\":\"all_checks\"}";

struct Appraisal {
  Checks checks;
  std::optional<TpmClock> clock;  // Set if the quote parsed.
  std::string attest_digest;      // SHA-256 of the TPMS_ATTEST, if parsed.
};

// Quote and app key certificate checks of `request` against `ak`, with the
// host's last accepted clock (nullopt: none known).
Appraisal AppraiseEvidence(const EvidenceRequest& request,
                           const RegisteredAk& ak,
                           const std::optional<TpmClock>& previous);

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_APPRAISAL_H_
