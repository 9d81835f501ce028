// Sovereign evidence appraised by this server's own verifier and registrar;
// verdicts go to its attestation log.
#ifndef TRELLIS_IDENTITY_IN_PROCESS_VERIFIER_H_
#define TRELLIS_IDENTITY_IN_PROCESS_VERIFIER_H_

#include <string>

#include "attest/registrar/registrar.h"
#include "attest/verifier/appraiser.h"
#include "identity/evidence_verifier.h"

namespace trellis::identity {

class InProcessVerifier : public EvidenceVerifier {
 public:
  InProcessVerifier(attest::Appraiser* appraiser, attest::Registrar* registrar)
      : appraiser_(appraiser), registrar_(registrar) {}

  absl::StatusOr<std::string> IssueNonce(const std::string& host_id) override;
  absl::StatusOr<std::string> HostAk(const std::string& host_id) override;
  absl::StatusOr<attest::Verdict> Appraise(
      const attest::EvidenceRequest& request,
      const nlohmann::json& body) override;
  std::string remote_url() const override { return ""; }

 private:
  attest::Appraiser* const appraiser_;
  attest::Registrar* const registrar_;
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_IN_PROCESS_VERIFIER_H_
