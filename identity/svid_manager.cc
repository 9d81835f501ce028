#include "identity/svid_manager.h"

#include "absl/strings/str_cat.h"
#include "spiffe/id.h"
#include "util/await_callback.h"

namespace trellis::identity {
namespace {

constexpr size_t kMaxAudiences = 32;
constexpr size_t kMaxAudienceBytes = 1024;

absl::Status ValidateAudiences(const std::vector<std::string>& audiences) {
  if (audiences.empty()) {
    return absl::InvalidArgumentError("at least one audience is required");
  }
  if (audiences.size() > kMaxAudiences) {
    return absl::InvalidArgumentError("too many audiences");
  }
  for (const std::string& audience : audiences) {
    if (audience.empty() || audience.size() > kMaxAudienceBytes) {
      return absl::InvalidArgumentError(
          "audiences must be non-empty and short");
    }
  }
  return absl::OkStatus();
}

// The issuance context of what an agent asks for on behalf of `entry`.
IssuanceContext AgentContext(const trellis::AttestedAgent& agent,
                             const Entry& entry,
                             trellis::IssuanceRecord::Kind kind) {
  IssuanceContext context;
  context.kind = kind;
  context.entry_id = entry.id();
  context.agent_id = agent.spiffe_id();
  context.attestation_type = agent.attestation_type();
  return context;
}

}  // namespace

absl::StatusOr<Entry> SvidManager::AuthorizedEntry(
    const trellis::AttestedAgent& agent, const std::string& entry_id) const {
  if (entry_id.empty()) return absl::InvalidArgumentError("missing entry ID");
  const std::vector<Selector> selectors(agent.selectors().begin(),
                                        agent.selectors().end());
  return entries_->AuthorizedEntry(agent.spiffe_id(), selectors, entry_id);
}

absl::StatusOr<X509Issue> SvidManager::RequestFor(
    const std::string& spiffe_id, const std::string& csr_der,
    const std::vector<std::string>& dns_names, absl::Duration ttl,
    IssuanceContext context) {
  absl::StatusOr<ca::CertificateRequest> csr =
      ca::ParseCsr(csr_der, /*check_signature=*/true);
  if (!csr.ok()) return csr.status();
  X509Issue issue;
  issue.spiffe_id = spiffe_id;
  issue.public_key_der = std::move(csr->public_key_der);
  issue.dns_names = dns_names;
  issue.ttl = ttl;
  issue.context = std::move(context);
  return issue;
}

absl::Status SvidManager::AppraiseFor(
    const trellis::AttestedAgent& agent,
    const spire::api::types::SovereignAttestation& attestation,
    X509Issue& issue) {
  absl::StatusOr<std::string> host =
      SovereignAttestor::HostOf(attestation, agent.host_id());
  if (!host.ok()) return host.status();
  absl::StatusOr<SovereignVerdict> verdict = sovereign_->Appraise(
      attestation, *host, issue.spiffe_id, issue.public_key_der);
  if (!verdict.ok()) return verdict.status();
  ApplyVerdict(*verdict, issue);
  return absl::OkStatus();
}

absl::StatusOr<ca::CaManager::DownstreamCa> SvidManager::NewDownstreamX509Ca(
    const std::string& caller_id, const std::string& csr_der,
    absl::Duration ttl) {
  absl::StatusOr<Entry> entry = entries_->DownstreamEntry(caller_id);
  if (!entry.ok()) return entry.status();
  if (csr_der.empty()) return absl::InvalidArgumentError("missing CSR");
  if (ttl < absl::ZeroDuration()) {
    return absl::InvalidArgumentError("preferred_ttl must not be negative");
  }
  absl::StatusOr<ca::CertificateRequest> csr =
      ca::ParseCsr(csr_der, /*check_signature=*/true);
  if (!csr.ok()) return csr.status();
  IssuanceContext context;
  context.kind = trellis::IssuanceRecord::DOWNSTREAM_X509_CA;
  context.entry_id = entry->id();
  return issuer_->IssueDownstreamCa(csr->public_key_der, ttl, context);
}

absl::StatusOr<IssuedJwt> SvidManager::NewJwtSvid(
    const trellis::AttestedAgent& agent, const std::string& entry_id,
    const std::vector<std::string>& audiences) {
  return AwaitCallback<IssuedJwt>([&](SvidIssuer::JwtDone done) {
    NewJwtSvidAsync(agent, entry_id, audiences, std::move(done));
  });
}

void SvidManager::NewJwtSvidAsync(const trellis::AttestedAgent& agent,
                                  const std::string& entry_id,
                                  const std::vector<std::string>& audiences,
                                  SvidIssuer::JwtDone done) {
  if (absl::Status s = ValidateAudiences(audiences); !s.ok()) return done(s);
  absl::StatusOr<Entry> entry = AuthorizedEntry(agent, entry_id);
  if (!entry.ok()) return done(entry.status());
  issuer_->IssueJwtAsync(
      SpiffeIdString(entry->spiffe_id()), audiences,
      absl::Seconds(entry->jwt_svid_ttl()),
      AgentContext(agent, *entry, trellis::IssuanceRecord::JWT_SVID),
      std::move(done));
}

absl::StatusOr<IssuedX509> SvidManager::MintX509Svid(const std::string& csr_der,
                                                     absl::Duration ttl) {
  if (csr_der.empty()) return absl::InvalidArgumentError("missing CSR");
  absl::StatusOr<ca::CertificateRequest> csr =
      ca::ParseCsr(csr_der, /*check_signature=*/true);
  if (!csr.ok()) return csr.status();
  if (csr->uri_sans.size() != 1) {
    return absl::InvalidArgumentError("CSR must have exactly one URI SAN");
  }
  absl::StatusOr<spiffe::SpiffeId> id = spiffe::ParseSpiffeId(csr->uri_sans[0]);
  if (!id.ok()) return id.status();
  if (id->trust_domain != ca_->options().trust_domain) {
    return absl::InvalidArgumentError(
        "CSR's SPIFFE ID is not in the server's trust domain");
  }
  X509Issue request;
  request.spiffe_id = id->ToString();
  request.public_key_der = std::move(csr->public_key_der);
  request.dns_names = csr->dns_sans;
  request.ttl = ttl;
  return std::move(issuer_->IssueX509({std::move(request)})[0]);
}

absl::StatusOr<IssuedJwt> SvidManager::MintJwtSvid(
    const std::string& spiffe_id, const std::vector<std::string>& audiences,
    absl::Duration ttl) {
  if (absl::Status s = ValidateAudiences(audiences); !s.ok()) return s;
  absl::StatusOr<spiffe::SpiffeId> id = spiffe::ParseSpiffeId(spiffe_id);
  if (!id.ok()) return id.status();
  if (id->trust_domain != ca_->options().trust_domain) {
    return absl::InvalidArgumentError(
        "SPIFFE ID is not in the server's trust domain");
  }
  IssuanceContext context;
  context.kind = trellis::IssuanceRecord::JWT_SVID;
  return issuer_->IssueJwt(id->ToString(), audiences, ttl, context);
}

absl::StatusOr<std::vector<absl::StatusOr<IssuedX509>>>
SvidManager::BatchNewX509Svid(const trellis::AttestedAgent& agent,
                              const std::vector<X509SvidRequest>& requests) {
  if (requests.size() > kMaxEntryBatch) {
    return absl::InvalidArgumentError("too many SVID requests in one batch");
  }
  // Requests that pass go to the issuer together (one log write).
  std::vector<absl::StatusOr<IssuedX509>> results(requests.size(),
                                                  absl::InternalError(""));
  std::vector<X509Issue> issues;
  std::vector<size_t> issued_at;
  for (size_t i = 0; i < requests.size(); ++i) {
    const X509SvidRequest& request = requests[i];
    if (request.entry_id.empty()) {
      results[i] = absl::InvalidArgumentError("missing entry ID");
      continue;
    }
    if (request.csr.empty()) {
      results[i] = absl::InvalidArgumentError("missing CSR");
      continue;
    }
    absl::StatusOr<Entry> entry = AuthorizedEntry(agent, request.entry_id);
    if (!entry.ok()) {
      results[i] = entry.status();
      continue;
    }
    absl::StatusOr<X509Issue> issue = RequestFor(
        SpiffeIdString(entry->spiffe_id()), request.csr,
        {entry->dns_names().begin(), entry->dns_names().end()},
        absl::Seconds(entry->x509_svid_ttl()),
        AgentContext(agent, *entry, trellis::IssuanceRecord::X509_SVID));
    if (!issue.ok()) {
      results[i] = issue.status();
      continue;
    }
    if (request.sovereign != nullptr && sovereign_ != nullptr &&
        sovereign_->enabled()) {
      if (absl::Status s = AppraiseFor(agent, *request.sovereign, *issue);
          !s.ok()) {
        results[i] = s;
        continue;
      }
    }
    issues.push_back(std::move(*issue));
    issued_at.push_back(i);
  }
  std::vector<absl::StatusOr<IssuedX509>> issued = issuer_->IssueX509(issues);
  for (size_t k = 0; k < issued.size(); ++k) {
    results[issued_at[k]] = std::move(issued[k]);
  }
  return results;
}

}  // namespace trellis::identity
