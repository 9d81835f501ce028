// Sovereign evidence appraised by a remote verifier over HTTPS (mTLS when a
// client certificate is given), as the Unified-Identity server calls
// Keylime: nonces from `POST /v2.4/verify/nonce`, the host's AK from
// `GET /v2.4/registrar/hosts/<id>`, verdicts from
// `POST /v2.4/verify/evidence` (a trellisd verifier serves all three).
// Verdicts stay in the remote verifier's log; issuance records name its URL.
#ifndef TRELLIS_IDENTITY_REMOTE_VERIFIER_H_
#define TRELLIS_IDENTITY_REMOTE_VERIFIER_H_

#include <memory>
#include <string>

#include "attest/api/verifier_client.h"
#include "identity/evidence_verifier.h"

namespace trellis::identity {

class RemoteVerifier : public EvidenceVerifier {
 public:
  // INVALID_ARGUMENT for an endpoint that is not https://HOST:PORT.
  static absl::StatusOr<std::unique_ptr<RemoteVerifier>> Create(
      attest::VerifierEndpoint endpoint);

  absl::StatusOr<std::string> IssueNonce(const std::string& host_id) override;
  absl::StatusOr<std::string> HostAk(const std::string& host_id) override;
  absl::StatusOr<attest::Verdict> Appraise(
      const attest::EvidenceRequest& request,
      const nlohmann::json& body) override;
  std::string remote_url() const override { return endpoint_.url; }

 private:
  explicit RemoteVerifier(attest::VerifierEndpoint endpoint)
      : endpoint_(std::move(endpoint)) {}
  // A client per call: attestations run concurrently and an HTTPS client
  // is not shared between threads.
  absl::StatusOr<std::unique_ptr<attest::VerifierClient>> Client() const;

  const attest::VerifierEndpoint endpoint_;
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_REMOTE_VERIFIER_H_
