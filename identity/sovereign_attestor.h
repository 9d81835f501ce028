// Sovereign attestation (the Unified-Identity design): a TPM host proves its
// state with a quote over a nonce this server issued plus a certified app
// key, the verifier appraises it in process (and logs the verdict), and only
// a verdict that passes the host's policy yields an SVID. The verified facts
// travel as AttestedClaims in the response and, unless in phase-1 mode, as
// a claims document in a non-critical certificate extension.
#ifndef TRELLIS_IDENTITY_SOVEREIGN_ATTESTOR_H_
#define TRELLIS_IDENTITY_SOVEREIGN_ATTESTOR_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/x509.h"
#include "identity/evidence_verifier.h"
#include "identity/svid_issuer.h"
#include "spire/api/types/sovereignattestation.pb.h"

namespace trellis::identity {

// The node attestor type of agents attested by sovereign attestation alone.
inline constexpr char kUnifiedIdentityType[] = "unified_identity";

struct SovereignOptions {
  // The `Unified-Identity` feature flag: off, sovereign fields are ignored.
  bool enabled = false;
  // The claims extension's OID; empty: phase-1 mode (the certificate stays
  // a plain SVID, claims travel only in responses).
  std::string claims_oid = ca::kSovereignClaimsOid;
};

// What a passed appraisal contributes to an SVID.
struct SovereignVerdict {
  std::string host_id;
  spire::api::types::AttestedClaims claims;
  // The claims extension (none in phase-1 mode).
  std::vector<ca::RawExtension> extensions;
  // The logged verdict (attestation log id and leaf hash, hex).
  std::string audit_id;
  int64_t audit_log_id = 0;
  // The remote verifier holding that log; empty: this server.
  std::string verifier_url;
};

// `issue` rests on `verdict`: the claims extension, the verdict's audit id
// in its record, the claims in its response.
void ApplyVerdict(const SovereignVerdict& verdict, X509Issue& issue);

class SovereignAttestor {
 public:
  // `verifier` may be null only when disabled.
  SovereignAttestor(SovereignOptions options, EvidenceVerifier* verifier);

  bool enabled() const { return options_.enabled; }

  // A fresh single-use nonce (raw bytes) for registered host `host_id`,
  // which its next quote must carry (hex in challenge_nonce).
  absl::StatusOr<std::string> Challenge(const std::string& host_id);

  // Appraises `attestation` as evidence of host `host_id` (the attestation's
  // keylime_agent_uuid, if set, must name the same host) for an SVID of
  // `spiffe_id` whose key is `svid_public_key_der` (SPKI). The verdict is
  // logged whatever it is (by the remote verifier, if that is where it was
  // appraised). INVALID_ARGUMENT for a malformed attestation,
  // PERMISSION_DENIED (naming the failed checks and the audit id) unless it
  // passed.
  absl::StatusOr<SovereignVerdict> Appraise(
      const spire::api::types::SovereignAttestation& attestation,
      const std::string& host_id, const std::string& spiffe_id,
      const std::string& svid_public_key_der);

  // The host an attestation names: keylime_agent_uuid, else `fallback`;
  // INVALID_ARGUMENT if neither is set.
  static absl::StatusOr<std::string> HostOf(
      const spire::api::types::SovereignAttestation& attestation,
      const std::string& fallback);

 private:
  const SovereignOptions options_;
  EvidenceVerifier* const verifier_;
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_SOVEREIGN_ATTESTOR_H_
