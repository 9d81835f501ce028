// Agents: join tokens, node attestation, agent SVIDs and their renewal, and
// the checks every agent call passes (upstream SPIRE's rules: banned,
// expired, not attested, not the current or new SVID).
#ifndef TRELLIS_IDENTITY_AGENT_MANAGER_H_
#define TRELLIS_IDENTITY_AGENT_MANAGER_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ca/ca_manager.h"
#include "ca/svid_verify.h"
#include "identity/entry_manager.h"
#include "identity/svid_issuer.h"
#include "spire/api/types/status.pb.h"
#include "storage/identity_storage.h"

namespace trellis::identity {

// The type URL of the details upstream agents read from PERMISSION_DENIED.
inline constexpr char kPermissionDeniedDetailsUrl[] =
    "type.googleapis.com/spire.api.types.PermissionDeniedDetails";

// PERMISSION_DENIED carrying PermissionDeniedDetails{reason} as a payload
// (the gRPC layer sends payloads as status details).
absl::Status PermissionDenied(
    spire::api::types::PermissionDeniedDetails::Reason,
    absl::string_view message);

class AgentManager {
 public:
  using Clock = std::function<absl::Time()>;

  AgentManager(storage::IdentityStorage* storage, ca::CaManager* ca,
               EntryManager* entries, SvidIssuer* issuer,
               Clock clock = absl::Now);

  // A single-use join token valid for `ttl_seconds` (>= 1). `token` empty:
  // a random UUID. `agent_id` non-empty: also an entry aliasing the agent
  // that will use the token to that SPIFFE ID.
  absl::StatusOr<trellis::JoinTokenRecord> CreateJoinToken(
      int32_t ttl_seconds, std::string token, const std::string& agent_id);

  // Attests an agent with a join token (consumed even if expired) and signs
  // its SVID for the CSR's key.
  absl::StatusOr<IssuedX509> AttestJoinToken(const std::string& token,
                                             const std::string& csr_der);

  // The agent behind a verified caller SVID, or PERMISSION_DENIED with the
  // reason upstream agents act on. A first use of the SVID RenewAgent
  // issued promotes it to current.
  absl::StatusOr<trellis::AttestedAgent> Authorize(
      const ca::VerifiedSvid& caller);

  // A new SVID for an agent that cannot re-attest; the old one stays valid
  // until the new one is first used.
  absl::StatusOr<IssuedX509> Renew(const trellis::AttestedAgent& agent,
                                   const std::string& csr_der);

  // Upstream's ban: the agent's serials are cleared (it must attest anew,
  // which a join-token agent cannot).
  absl::Status Ban(const std::string& spiffe_id);
  absl::Status Delete(const std::string& spiffe_id);
  absl::StatusOr<trellis::AttestedAgent> Get(const std::string& spiffe_id);
  absl::StatusOr<std::vector<trellis::AttestedAgent>> List();

 private:
  absl::StatusOr<IssuedX509> Sign(const std::string& spiffe_id,
                                  const std::string& attestation_type,
                                  const std::string& csr_der);

  storage::IdentityStorage* const storage_;
  ca::CaManager* const ca_;
  EntryManager* const entries_;
  SvidIssuer* const issuer_;
  const Clock clock_;
  const std::string trust_domain_;
  // Serialises read-modify-write of agent records.
  absl::Mutex mu_;
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_AGENT_MANAGER_H_
