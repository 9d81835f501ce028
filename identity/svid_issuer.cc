#include "identity/svid_issuer.h"

#include <optional>

#include "crypto/digest.h"
#include "util/await_callback.h"

namespace trellis::identity {
namespace {

trellis::IssuanceRecord RecordFor(const IssuanceContext& context,
                                  const std::string& spiffe_id) {
  trellis::IssuanceRecord record;
  record.set_kind(context.kind);
  record.set_spiffe_id(spiffe_id);
  record.set_entry_id(context.entry_id);
  record.set_agent_id(context.agent_id);
  record.set_attestation_type(context.attestation_type);
  record.set_attestation_audit_id(context.attestation_audit_id);
  record.set_attestation_log_id(context.attestation_log_id);
  record.set_attestation_verifier(context.attestation_verifier);
  return record;
}

}  // namespace

SvidIssuer::SvidIssuer(ca::CaManager* ca, IssuanceLog* log,
                       prometheus::Registry* metrics)
    : ca_(ca),
      log_(log),
      metrics_(metrics),
      issued_(prometheus::BuildCounter()
                  .Name("trellis_svids_issued_total")
                  .Help("Credentials issued (and recorded in the issuance "
                        "log), by kind and the agent's attestation type.")
                  .Register(metrics_.get())) {}

prometheus::Counter& SvidIssuer::Issued(trellis::IssuanceRecord::Kind kind,
                                        const IssuanceContext& context) {
  return issued_.Add({{"kind", trellis::IssuanceRecord::Kind_Name(kind)},
                      {"attestation_type", context.attestation_type}});
}

std::vector<absl::StatusOr<IssuedX509>> SvidIssuer::IssueX509(
    const std::vector<X509Issue>& requests) {
  std::vector<absl::StatusOr<IssuedX509>> results = SignX509(requests);
  for (size_t i = 0; i < requests.size(); ++i) {
    if (results[i].ok()) {
      Issued(requests[i].context.kind, requests[i].context).Increment();
    }
  }
  return results;
}

std::vector<absl::StatusOr<IssuedX509>> SvidIssuer::SignX509(
    const std::vector<X509Issue>& requests) {
  std::vector<absl::StatusOr<IssuedX509>> results(
      requests.size(), absl::InternalError("not issued"));
  std::vector<std::optional<ca::CaManager::Precertificate>> precerts(
      requests.size());
  std::vector<trellis::IssuanceRecord> records;
  std::vector<size_t> recorded;  // Request index of each record.
  for (size_t i = 0; i < requests.size(); ++i) {
    const X509Issue& request = requests[i];
    absl::StatusOr<ca::CaManager::Precertificate> precert =
        ca_->PrepareX509Svid(request.spiffe_id, request.public_key_der,
                             request.dns_names, request.ttl,
                             request.extensions);
    if (!precert.ok()) {
      results[i] = precert.status();
      continue;
    }
    const ca::CertificateInfo& info = precert->cert.info();
    absl::StatusOr<std::string> hash = precert->cert.PrecertificateHash();
    if (!hash.ok()) {
      results[i] = hash.status();
      continue;
    }
    trellis::IssuanceRecord record =
        RecordFor(request.context, request.spiffe_id);
    record.set_serial_number(info.serial_number);
    record.set_credential_sha256(*hash);
    record.set_not_before(absl::ToUnixSeconds(info.validity.not_before));
    record.set_not_after(absl::ToUnixSeconds(info.validity.not_after));
    record.set_issuer_key_id(precert->issuer_key_id);
    results[i] = IssuedX509{
        request.spiffe_id, {}, record.not_after(), request.attested_claims};
    precerts[i] = std::move(*precert);
    records.push_back(std::move(record));
    recorded.push_back(i);
  }
  if (log_ == nullptr) {
    for (size_t i : recorded) {
      absl::StatusOr<std::string> cert = ca_->FinishX509Svid(*precerts[i], "");
      if (!cert.ok()) {
        results[i] = cert.status();
        continue;
      }
      results[i]->cert_chain = {*std::move(cert)};
      results[i]->cert_chain.insert(results[i]->cert_chain.end(),
                                    precerts[i]->intermediates.begin(),
                                    precerts[i]->intermediates.end());
    }
    return results;
  }
  absl::StatusOr<std::vector<trellis::InclusionPromise>> promises =
      records.empty() ? std::vector<trellis::InclusionPromise>{}
                      : log_->Append(std::move(records));
  for (size_t k = 0; k < recorded.size(); ++k) {
    const size_t i = recorded[k];
    if (!promises.ok()) {
      results[i] = promises.status();  // Nothing issued without its record.
      continue;
    }
    absl::StatusOr<std::string> final_cert =
        ca_->FinishX509Svid(*precerts[i], (*promises)[k].SerializeAsString());
    if (!final_cert.ok()) {
      results[i] = final_cert.status();
      continue;
    }
    results[i]->cert_chain = {std::move(*final_cert)};
    results[i]->cert_chain.insert(results[i]->cert_chain.end(),
                                  precerts[i]->intermediates.begin(),
                                  precerts[i]->intermediates.end());
  }
  return results;
}

absl::StatusOr<ca::CaManager::DownstreamCa> SvidIssuer::IssueDownstreamCa(
    const std::string& public_key_der, absl::Duration ttl,
    const IssuanceContext& context) {
  absl::StatusOr<ca::CaManager::DownstreamCa> ca =
      ca_->SignDownstreamCa(public_key_der, ttl);
  if (!ca.ok()) return ca.status();
  prometheus::Counter& issued =
      Issued(trellis::IssuanceRecord::DOWNSTREAM_X509_CA, context);
  if (log_ == nullptr) {
    issued.Increment();
    return ca;
  }
  absl::StatusOr<ca::CertificateInfo> info =
      ca::DescribeCertificate(ca->chain.front());
  if (!info.ok()) return info.status();
  absl::StatusOr<std::string> hash = ca::PrecertificateHash(ca->chain.front());
  if (!hash.ok()) return hash.status();
  trellis::IssuanceRecord record =
      RecordFor(context, info->uri_sans.empty() ? "" : info->uri_sans[0]);
  record.set_kind(trellis::IssuanceRecord::DOWNSTREAM_X509_CA);
  record.set_serial_number(info->serial_number);
  record.set_credential_sha256(*hash);
  record.set_not_before(absl::ToUnixSeconds(info->validity.not_before));
  record.set_not_after(absl::ToUnixSeconds(info->validity.not_after));
  record.set_issuer_key_id(ca->issuer_key_id);
  absl::StatusOr<std::vector<std::string>> logged =
      log_->AppendRecords({std::move(record)});
  if (!logged.ok()) return logged.status();
  issued.Increment();
  return ca;
}

absl::StatusOr<IssuedJwt> SvidIssuer::IssueJwt(
    const std::string& spiffe_id, const std::vector<std::string>& audiences,
    absl::Duration ttl, const IssuanceContext& context) {
  return AwaitCallback<IssuedJwt>([&](JwtDone done) {
    IssueJwtAsync(spiffe_id, audiences, ttl, context, std::move(done));
  });
}

void SvidIssuer::IssueJwtAsync(const std::string& spiffe_id,
                               const std::vector<std::string>& audiences,
                               absl::Duration ttl,
                               const IssuanceContext& context, JwtDone done) {
  absl::StatusOr<ca::CaManager::JwtSvid> jwt =
      ca_->SignJwtSvid(spiffe_id, audiences, ttl);
  if (!jwt.ok()) return done(jwt.status());
  prometheus::Counter& issued =
      Issued(trellis::IssuanceRecord::JWT_SVID, context);
  if (log_ == nullptr) {
    issued.Increment();
    return done(IssuedJwt{spiffe_id, std::move(*jwt)});
  }
  trellis::IssuanceRecord record = RecordFor(context, spiffe_id);
  record.set_kind(trellis::IssuanceRecord::JWT_SVID);
  record.set_credential_sha256(
      crypto::Digest(crypto::DigestAlgorithm::kSha256, {jwt->token}));
  record.set_not_before(absl::ToUnixSeconds(jwt->issued_at));
  record.set_not_after(absl::ToUnixSeconds(jwt->expires_at));
  // A JWT has no place for a promise: the record alone, and the token is
  // handed out only once that record is durable.
  log_->AppendRecordsAsync(
      {std::move(record)},
      [done = std::move(done), svid = IssuedJwt{spiffe_id, std::move(*jwt)},
       // Keeps a registry of the issuer's own (and `issued`) alive.
       &issued, registry = metrics_.own()](
          absl::StatusOr<std::vector<std::string>> logged) mutable {
        if (!logged.ok()) return done(logged.status());
        issued.Increment();
        done(std::move(svid));
      });
}

}  // namespace trellis::identity
