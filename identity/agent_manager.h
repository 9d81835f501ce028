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
#include "attest/spire_tpm/node_verifier.h"
#include "ca/ca_manager.h"
#include "ca/svid_verify.h"
#include "identity/entry_manager.h"
#include "identity/sovereign_attestor.h"
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

  // `sovereign` may be null (no sovereign attestation), `tpm` too (no `tpm`
  // node attestor).
  AgentManager(storage::IdentityStorage* storage, ca::CaManager* ca,
               EntryManager* entries, SvidIssuer* issuer,
               SovereignAttestor* sovereign = nullptr,
               const attest::spire_tpm::NodeVerifier* tpm = nullptr,
               Clock clock = absl::Now);

  // A single-use join token valid for `ttl_seconds` (>= 1). `token` empty:
  // a random UUID. `agent_id` non-empty: also an entry aliasing the agent
  // that will use the token to that SPIFFE ID.
  absl::StatusOr<trellis::JoinTokenRecord> CreateJoinToken(
      int32_t ttl_seconds, std::string token, const std::string& agent_id);

  // Attests an agent with a join token (consumed even if expired) and signs
  // its SVID for the CSR's key. With `sovereign` (and the feature on) the
  // host's evidence must pass too: the SVID carries its claims and the agent
  // renews with fresh evidence.
  absl::StatusOr<IssuedX509> AttestJoinToken(
      const std::string& token, const std::string& csr_der,
      const spire::api::types::SovereignAttestation* sovereign = nullptr);

  // Attests the agent of registered TPM host `host_id` by sovereign
  // attestation alone: spiffe://<td>/spire/agent/unified_identity/<host_id>,
  // re-attestable, with selectors unified_identity:host_id:<id> and
  // unified_identity:host_integrity:<status>.
  absl::StatusOr<IssuedX509> AttestSovereign(
      const std::string& host_id, const std::string& csr_der,
      const spire::api::types::SovereignAttestation& sovereign);

  // Whether the spire-tpm-plugin's `tpm` node attestor is configured.
  bool tpm_enabled() const { return tpm_ != nullptr; }
  // Begins a `tpm` attestation: the agent's EK and AK checked, the
  // credential challenge to send it.
  absl::StatusOr<attest::spire_tpm::NodeVerifier::Pending> BeginTpm(
      absl::string_view payload);
  // Completes it with the agent's `answer`: the agent of that EK,
  // spiffe://<td>/spire/agent/tpm/<EK hash>, re-attestable, with the
  // selector tpm:pub_hash:<EK hash>. With `sovereign` (and the feature on)
  // the host's evidence must pass too.
  absl::StatusOr<IssuedX509> AttestTpm(
      const attest::spire_tpm::NodeVerifier::Pending& pending,
      absl::string_view answer, const std::string& csr_der,
      const spire::api::types::SovereignAttestation* sovereign = nullptr);

  // Whether sovereign attestation is on (the Unified-Identity flag).
  bool sovereign_enabled() const {
    return sovereign_ != nullptr && sovereign_->enabled();
  }
  // A nonce for `host_id`'s next quote (raw bytes).
  absl::StatusOr<std::string> SovereignChallenge(const std::string& host_id);

  // The agent behind a verified caller SVID, or PERMISSION_DENIED with the
  // reason upstream agents act on. A first use of the SVID RenewAgent
  // issued promotes it to current.
  absl::StatusOr<trellis::AttestedAgent> Authorize(
      const ca::VerifiedSvid& caller);

  // A new SVID for an agent that cannot re-attest; the old one stays valid
  // until the new one is first used. An agent attested with sovereign
  // evidence renews with fresh evidence: without `sovereign` it gets a
  // challenge nonce to quote (and no SVID).
  struct Renewal {
    std::optional<IssuedX509> svid;
    std::string challenge_nonce;  // Raw bytes.
  };
  absl::StatusOr<Renewal> Renew(
      const trellis::AttestedAgent& agent, const std::string& csr_der,
      const spire::api::types::SovereignAttestation* sovereign = nullptr);

  // Upstream's ban: the agent's serials are cleared (it must attest anew,
  // which a join-token agent cannot).
  absl::Status Ban(const std::string& spiffe_id);
  absl::Status Delete(const std::string& spiffe_id);
  absl::StatusOr<trellis::AttestedAgent> Get(const std::string& spiffe_id);
  absl::StatusOr<std::vector<trellis::AttestedAgent>> List();

 private:
  // The agent SVID for `csr_der`, resting on `sovereign` evidence of
  // `host_id` when given (appraised for this SVID's ID and key).
  absl::StatusOr<IssuedX509> Sign(
      const std::string& spiffe_id, const std::string& attestation_type,
      const std::string& csr_der,
      const spire::api::types::SovereignAttestation* sovereign,
      const std::string& host_id);
  // Signs `agent`'s SVID (resting on `sovereign` evidence of its host if
  // given, its facts then its selectors) and records it attested; refused
  // for a banned agent.
  absl::StatusOr<IssuedX509> Enroll(
      trellis::AttestedAgent agent, const std::string& csr_der,
      const spire::api::types::SovereignAttestation* sovereign);
  // The registered host whose evidence `sovereign` is ("" without
  // evidence or without the feature, when it is ignored).
  absl::StatusOr<std::string> EvidenceHost(
      const spire::api::types::SovereignAttestation*& sovereign) const;
  // PERMISSION_DENIED if `spiffe_id` is a banned agent's.
  absl::Status RefuseBanned(const std::string& spiffe_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Records `agent` as attested with `svid`.
  absl::Status StoreAttested(trellis::AttestedAgent agent,
                             const IssuedX509& svid)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::IdentityStorage* const storage_;
  EntryManager* const entries_;
  SvidIssuer* const issuer_;
  SovereignAttestor* const sovereign_;
  const attest::spire_tpm::NodeVerifier* const tpm_;
  const Clock clock_;
  const std::string trust_domain_;
  // Serialises read-modify-write of agent records.
  absl::Mutex mu_;
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_AGENT_MANAGER_H_
