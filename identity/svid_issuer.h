// Issues SVIDs through the CA and records each in the issuance log: an
// X509-SVID is signed as a pre-certificate, its record appended (one write
// per batch), and the log's inclusion promise embedded before the final
// signature. Without a log (tests, or the role's log not set up) SVIDs are
// issued without records.
#ifndef TRELLIS_IDENTITY_SVID_ISSUER_H_
#define TRELLIS_IDENTITY_SVID_ISSUER_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ca/ca_manager.h"
#include "identity/issuance_log.h"
#include "metrics/registry.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "spire/api/types/sovereignattestation.pb.h"

namespace trellis::identity {

// What an issuance rests on, for its record.
struct IssuanceContext {
  trellis::IssuanceRecord::Kind kind = trellis::IssuanceRecord::X509_SVID;
  std::string entry_id;
  std::string agent_id;
  std::string attestation_type;
  std::string attestation_audit_id;
  int64_t attestation_log_id = 0;    // The log holding that verdict.
  std::string attestation_verifier;  // That log's server, if remote.
};

struct X509Issue {
  std::string spiffe_id;
  std::string public_key_der;  // SPKI of a checked key (ca::ParseCsr's).
  std::vector<std::string> dns_names;
  absl::Duration ttl;                        // Zero: the default.
  std::vector<ca::RawExtension> extensions;  // E.g. sovereign claims.
  IssuanceContext context;
  // Passed on to IssuedX509::attested_claims.
  std::optional<spire::api::types::AttestedClaims> attested_claims;
};

struct IssuedX509 {
  std::string spiffe_id;
  std::vector<std::string> cert_chain;  // DER, leaf first.
  int64_t expires_at = 0;               // Unix seconds.
  // What a sovereign attestation proved, for the response.
  std::optional<spire::api::types::AttestedClaims> attested_claims;
};

struct IssuedJwt {
  std::string spiffe_id;
  ca::CaManager::JwtSvid jwt;
};

class SvidIssuer {
 public:
  // `log` may be null: no records, no promises. Counts what it issues
  // (trellis_svids_issued_total) into `metrics` if given.
  SvidIssuer(ca::CaManager* ca, IssuanceLog* log,
             prometheus::Registry* metrics = nullptr);

  // One result per request, in order; all records in one log write.
  std::vector<absl::StatusOr<IssuedX509>> IssueX509(
      const std::vector<X509Issue>& requests);
  // A downstream server's CA certificate, recorded (without a promise: the
  // record names the certificate's TBS hash).
  absl::StatusOr<ca::CaManager::DownstreamCa> IssueDownstreamCa(
      const std::string& public_key_der, absl::Duration ttl,
      const IssuanceContext& context);
  absl::StatusOr<IssuedJwt> IssueJwt(const std::string& spiffe_id,
                                     const std::vector<std::string>& audiences,
                                     absl::Duration ttl,
                                     const IssuanceContext& context);
  // IssueJwt without a thread waiting for the log: `done` gets the JWT-SVID
  // once its record is durable (on the log's writer thread), or the error.
  using JwtDone = std::function<void(absl::StatusOr<IssuedJwt>)>;
  void IssueJwtAsync(const std::string& spiffe_id,
                     const std::vector<std::string>& audiences,
                     absl::Duration ttl, const IssuanceContext& context,
                     JwtDone done);

 private:
  // IssueX509 without counting.
  std::vector<absl::StatusOr<IssuedX509>> SignX509(
      const std::vector<X509Issue>& requests);
  // The counter of `kind` issued under `context`'s attestation type; it
  // lives as long as the registry.
  prometheus::Counter& Issued(trellis::IssuanceRecord::Kind kind,
                              const IssuanceContext& context);

  ca::CaManager* const ca_;
  IssuanceLog* const log_;
  metrics::RegistryOrOwn metrics_;
  prometheus::Family<prometheus::Counter>& issued_;
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_SVID_ISSUER_H_
