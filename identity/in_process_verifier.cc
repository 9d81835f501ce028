#include "identity/in_process_verifier.h"

#include "absl/strings/str_cat.h"

namespace trellis::identity {

absl::StatusOr<std::string> InProcessVerifier::IssueNonce(
    const std::string& host_id) {
  return appraiser_->IssueNonce(host_id);
}

absl::StatusOr<std::string> InProcessVerifier::HostAk(
    const std::string& host_id) {
  absl::StatusOr<trellis::HostRegistration> host = registrar_->GetHost(host_id);
  if (absl::IsNotFound(host.status())) {
    return absl::PermissionDeniedError(
        absl::StrCat("host ", host_id, " is not registered"));
  }
  if (!host.ok()) return host.status();
  return host->ak_public();
}

absl::StatusOr<attest::Verdict> InProcessVerifier::Appraise(
    const attest::EvidenceRequest& request, const nlohmann::json&) {
  return appraiser_->Appraise(request);
}

}  // namespace trellis::identity
