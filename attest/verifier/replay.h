// Offline replay of a logged appraisal: from the record (fetched from the
// log with its inclusion proof), the evidence it names by digest and the
// host's registered keys, run the appraisal again and say whether it
// reaches the logged verdict. Checks that depend on the verifier's state at
// the time (the AK was registered, the nonce unspent, the clock newer than
// the host's last) are taken from the record and said to be.
#ifndef TRELLIS_ATTEST_VERIFIER_REPLAY_H_
#define TRELLIS_ATTEST_VERIFIER_REPLAY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attest/verifier/checks.h"
#include "trellis_attest.pb.h"

namespace trellis::attest {

struct ReplayInputs {
  trellis::AttestationRecord record;
  std::string evidence;   // As stored; must hash to record.evidence_digest.
  std::string ek_public;  // TPM2B_PUBLIC of the host's registration.
  std::string ak_public;  // TPM2B_PUBLIC; its Name must be record.ak_name.
  // The record's policy version; must hash to record.policy_digest.
  std::string policy_text;
};

struct ReplayResult {
  Checks replayed;  // Every check, stateful ones as logged.
  bool replayed_verified = false;
  bool agrees = false;  // Same verdict and the same result for every check.
  std::vector<std::string> differences;
  std::vector<std::string> taken_from_record;
};

// INVALID_ARGUMENT if the inputs do not belong together (evidence digest,
// AK Name, nonce, policy digest).
absl::StatusOr<ReplayResult> ReplayAppraisal(const ReplayInputs& inputs);

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_REPLAY_H_
