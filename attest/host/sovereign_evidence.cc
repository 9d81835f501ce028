#include "attest/host/sovereign_evidence.h"

#include "absl/strings/escaping.h"
#include "util/json_fields.h"

namespace trellis::attest::host {

absl::StatusOr<spire::api::types::SovereignAttestation> SovereignEvidence(
    HostAgent& host, const std::string& nonce, const std::string& host_id,
    const std::string& pcrs) {
  const std::string nonce_hex = absl::BytesToHexString(nonce);
  absl::StatusOr<nlohmann::json> app_key = host.GenerateAppKey();
  if (!app_key.ok()) return app_key.status();
  absl::StatusOr<std::string> app_key_pem =
      json_fields::String(*app_key, "app_key_public");
  if (!app_key_pem.ok()) return app_key_pem.status();
  absl::StatusOr<std::string> context =
      json_fields::String(*app_key, "app_key_context");
  if (!context.ok()) return context.status();
  absl::StatusOr<std::string> quote = host.GenerateQuote(nonce_hex, pcrs);
  if (!quote.ok()) return quote.status();
  absl::StatusOr<std::string> certificate =
      host.CertifyAppKey(*context, *app_key_pem, nonce_hex);
  if (!certificate.ok()) return certificate.status();
  spire::api::types::SovereignAttestation evidence;
  evidence.set_tpm_signed_attestation(*quote);
  evidence.set_app_key_public(*app_key_pem);
  evidence.set_app_key_certificate(*certificate);
  evidence.set_challenge_nonce(nonce_hex);
  evidence.set_keylime_agent_uuid(host_id);
  return evidence;
}

}  // namespace trellis::attest::host
