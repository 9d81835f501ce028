// Where sovereign evidence is appraised: the verifier in this process, or a
// remote Keylime-compatible verifier (`POST /v2.4/verify/evidence`) such as
// another trellisd. Either issues the nonces hosts quote, knows which AK a
// host registered, and returns a verdict that it has logged.
#ifndef TRELLIS_IDENTITY_EVIDENCE_VERIFIER_H_
#define TRELLIS_IDENTITY_EVIDENCE_VERIFIER_H_

#include <string>

#include "absl/status/statusor.h"
#include "attest/verifier/appraiser.h"
#include "attest/verifier/evidence_request.h"
#include "nlohmann/json.hpp"

namespace trellis::identity {

class EvidenceVerifier {
 public:
  virtual ~EvidenceVerifier() = default;

  // A fresh single-use nonce (raw bytes) for host `host_id`'s next quote.
  virtual absl::StatusOr<std::string> IssueNonce(
      const std::string& host_id) = 0;

  // The AK (TPM2B_PUBLIC) host `host_id` registered; PERMISSION_DENIED if
  // the host is not registered.
  virtual absl::StatusOr<std::string> HostAk(const std::string& host_id) = 0;

  // The verdict on `request`, `body` being its JSON (a verify/evidence
  // request body). A verdict that failed is a Verdict with verified false
  // and the failed checks; an error means no verdict could be had.
  virtual absl::StatusOr<attest::Verdict> Appraise(
      const attest::EvidenceRequest& request, const nlohmann::json& body) = 0;

  // The remote verifier's URL; empty when verdicts go to this server's own
  // attestation log.
  virtual std::string remote_url() const = 0;
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_EVIDENCE_VERIFIER_H_
