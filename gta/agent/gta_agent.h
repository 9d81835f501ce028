// GTA's agent API on a host (POST /global-trust-authority/agent/v1/tokens
// and /evidences): evidence from this host's TPM in the body the service's
// /attest takes, and, with a service configured, the whole round of
// challenge, evidence and attest that ends in a token. The quote binds the
// nonce and the attester data as the service checks them:
// extraData = SHA-256(nonce bytes || base64(compact attester_data)).
#ifndef TRELLIS_GTA_AGENT_GTA_AGENT_H_
#define TRELLIS_GTA_AGENT_GTA_AGENT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "gta/agent/evidence_collector.h"
#include "gta/client/service_client.h"

namespace trellis::gta::agent {

inline constexpr char kAgentVersion[] = "1.0.0";
// The largest attester_data a caller may pass through (as JSON).
inline constexpr size_t kMaxAttesterDataBytes = 64 << 10;

class GtaAgent {
 public:
  // `service` may be null: then only evidences are served.
  GtaAgent(const EvidenceCollector* collector, client::ServiceClient* service,
           std::string node_id)
      : collector_(collector),
        service_(service),
        node_id_(std::move(node_id)) {}

  // The /evidences request ({attesters: [{attester_type, log_types?}] or
  // attester_types: [...], nonce_type, user_nonce?, nonce?, attester_data?})
  // answered with an /attest body (JSON text). INVALID_ARGUMENT for a
  // malformed request.
  absl::StatusOr<std::string> Evidences(absl::string_view request_text) const;

  // The /tokens request ({attester_info?: [{attester_type?, policy_ids?}],
  // challenge?, attester_data?}): a verifier nonce from the service when
  // `challenge` is true (else nonce_type ignore), evidence, /attest; the
  // token. FAILED_PRECONDITION without a service; the service's refusals
  // keep their codes (service_client.h).
  absl::StatusOr<std::string> Token(absl::string_view request_text) const;

 private:
  const EvidenceCollector* const collector_;
  client::ServiceClient* const service_;
  const std::string node_id_;
};

}  // namespace trellis::gta::agent

#endif  // TRELLIS_GTA_AGENT_GTA_AGENT_H_
