// Workload SVIDs an agent asks for on behalf of its authorised entries.
#ifndef TRELLIS_IDENTITY_SVID_MANAGER_H_
#define TRELLIS_IDENTITY_SVID_MANAGER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/ca_manager.h"
#include "identity/agent_manager.h"
#include "identity/entry_manager.h"
#include "identity/sovereign_attestor.h"
#include "identity/svid_issuer.h"

namespace trellis::identity {

struct X509SvidRequest {
  std::string entry_id;
  std::string csr;  // DER PKCS#10.
  // Evidence of the workload's host (NewX509SVIDParams field 20); only
  // read with the Unified-Identity flag on.
  const spire::api::types::SovereignAttestation* sovereign = nullptr;
};

class SvidManager {
 public:
  // `sovereign` may be null (no sovereign attestation).
  SvidManager(ca::CaManager* ca, EntryManager* entries, SvidIssuer* issuer,
              SovereignAttestor* sovereign = nullptr)
      : ca_(ca), entries_(entries), issuer_(issuer), sovereign_(sovereign) {}

  // One result per request, in order: the SVID for the entry, or
  // INVALID_ARGUMENT (missing fields, bad CSR) / NOT_FOUND (the entry is
  // unknown or not authorised for `agent`) / PERMISSION_DENIED (sovereign
  // evidence that failed; its host is keylime_agent_uuid or the agent's).
  // INVALID_ARGUMENT for the whole call when it holds more than kMaxEntryBatch
  // requests.
  absl::StatusOr<std::vector<absl::StatusOr<IssuedX509>>> BatchNewX509Svid(
      const trellis::AttestedAgent& agent,
      const std::vector<X509SvidRequest>& requests);

  // A JWT-SVID for an entry authorised for `agent`, for `audiences` (at
  // least one, none empty); the entry's JWT TTL or the default.
  absl::StatusOr<IssuedJwt> NewJwtSvid(
      const trellis::AttestedAgent& agent, const std::string& entry_id,
      const std::vector<std::string>& audiences);
  // The same without a thread waiting for the issuance log: `done` runs
  // once the record is durable (or with the error).
  void NewJwtSvidAsync(const trellis::AttestedAgent& agent,
                       const std::string& entry_id,
                       const std::vector<std::string>& audiences,
                       SvidIssuer::JwtDone done);

  // A CA certificate for the downstream server `caller_id` (PERMISSION_DENIED
  // unless an unexpired entry for that ID is marked downstream), for the
  // CSR's key; ttl zero: the CA TTL.
  absl::StatusOr<ca::CaManager::DownstreamCa> NewDownstreamX509Ca(
      const std::string& caller_id, const std::string& csr, absl::Duration ttl);

  // Operators mint SVIDs without an entry: an X509-SVID for the single URI
  // SAN of `csr` (in the trust domain), a JWT-SVID for `spiffe_id`.
  absl::StatusOr<IssuedX509> MintX509Svid(const std::string& csr,
                                          absl::Duration ttl);
  absl::StatusOr<IssuedJwt> MintJwtSvid(
      const std::string& spiffe_id, const std::vector<std::string>& audiences,
      absl::Duration ttl);

 private:
  // The entry `entry_id` if it is authorised for `agent`.
  absl::StatusOr<Entry> AuthorizedEntry(const trellis::AttestedAgent& agent,
                                        const std::string& entry_id) const;
  // Makes `issue` rest on the sovereign evidence, which must pass.
  absl::Status AppraiseFor(
      const trellis::AttestedAgent& agent,
      const spire::api::types::SovereignAttestation& attestation,
      X509Issue& issue);
  // The SVID request for a CSR, or why the CSR is refused.
  static absl::StatusOr<X509Issue> RequestFor(
      const std::string& spiffe_id, const std::string& csr_der,
      const std::vector<std::string>& dns_names, absl::Duration ttl,
      IssuanceContext context);

  ca::CaManager* const ca_;
  EntryManager* const entries_;
  SvidIssuer* const issuer_;
  SovereignAttestor* const sovereign_;
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_SVID_MANAGER_H_
