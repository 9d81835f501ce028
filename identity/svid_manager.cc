#include "identity/svid_manager.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "spiffe/id.h"

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

}  // namespace

absl::StatusOr<Entry> SvidManager::AuthorizedEntry(
    const trellis::AttestedAgent& agent, const std::string& entry_id) const {
  if (entry_id.empty()) return absl::InvalidArgumentError("missing entry ID");
  const std::vector<Selector> selectors(agent.selectors().begin(),
                                        agent.selectors().end());
  for (Entry& entry :
       entries_->AuthorizedEntries(agent.spiffe_id(), selectors)) {
    if (entry.id() == entry_id) return std::move(entry);
  }
  return absl::NotFoundError("entry not found or not authorized");
}

absl::StatusOr<AgentSvid> SvidManager::SignX509(
    const std::string& spiffe_id, const std::string& csr_der,
    const std::vector<std::string>& dns_names, absl::Duration ttl) {
  absl::StatusOr<ca::CertificateRequest> csr =
      ca::ParseCsr(csr_der, /*check_signature=*/true);
  if (!csr.ok()) return csr.status();
  absl::StatusOr<std::vector<std::string>> chain =
      ca_->SignX509Svid(spiffe_id, csr->public_key_der, dns_names, ttl);
  if (!chain.ok()) return chain.status();
  absl::StatusOr<absl::Time> not_after = ca::NotAfter(chain->front());
  if (!not_after.ok()) return not_after.status();
  return AgentSvid{spiffe_id, std::move(*chain),
                   absl::ToUnixSeconds(*not_after)};
}

absl::StatusOr<JwtSvid> SvidManager::NewJwtSvid(
    const trellis::AttestedAgent& agent, const std::string& entry_id,
    const std::vector<std::string>& audiences) {
  if (absl::Status s = ValidateAudiences(audiences); !s.ok()) return s;
  absl::StatusOr<Entry> entry = AuthorizedEntry(agent, entry_id);
  if (!entry.ok()) return entry.status();
  const std::string spiffe_id = SpiffeIdString(entry->spiffe_id());
  absl::StatusOr<ca::CaManager::JwtSvid> jwt = ca_->SignJwtSvid(
      spiffe_id, audiences, absl::Seconds(entry->jwt_svid_ttl()));
  if (!jwt.ok()) return jwt.status();
  return JwtSvid{spiffe_id, std::move(*jwt)};
}

absl::StatusOr<AgentSvid> SvidManager::MintX509Svid(const std::string& csr_der,
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
  return SignX509(id->ToString(), csr_der, csr->dns_sans, ttl);
}

absl::StatusOr<JwtSvid> SvidManager::MintJwtSvid(
    const std::string& spiffe_id, const std::vector<std::string>& audiences,
    absl::Duration ttl) {
  if (absl::Status s = ValidateAudiences(audiences); !s.ok()) return s;
  absl::StatusOr<spiffe::SpiffeId> id = spiffe::ParseSpiffeId(spiffe_id);
  if (!id.ok()) return id.status();
  if (id->trust_domain != ca_->options().trust_domain) {
    return absl::InvalidArgumentError(
        "SPIFFE ID is not in the server's trust domain");
  }
  absl::StatusOr<ca::CaManager::JwtSvid> jwt =
      ca_->SignJwtSvid(id->ToString(), audiences, ttl);
  if (!jwt.ok()) return jwt.status();
  return JwtSvid{id->ToString(), std::move(*jwt)};
}

absl::StatusOr<std::vector<absl::StatusOr<AgentSvid>>>
SvidManager::BatchNewX509Svid(const trellis::AttestedAgent& agent,
                              const std::vector<X509SvidRequest>& requests) {
  if (requests.size() > kMaxEntryBatch) {
    return absl::InvalidArgumentError("too many SVID requests in one batch");
  }
  const std::vector<Selector> selectors(agent.selectors().begin(),
                                        agent.selectors().end());
  absl::flat_hash_map<std::string, Entry> authorized;
  for (Entry& entry :
       entries_->AuthorizedEntries(agent.spiffe_id(), selectors)) {
    std::string id = entry.id();
    authorized.emplace(std::move(id), std::move(entry));
  }
  std::vector<absl::StatusOr<AgentSvid>> results;
  results.reserve(requests.size());
  for (const X509SvidRequest& request : requests) {
    if (request.entry_id.empty()) {
      results.push_back(absl::InvalidArgumentError("missing entry ID"));
      continue;
    }
    if (request.csr.empty()) {
      results.push_back(absl::InvalidArgumentError("missing CSR"));
      continue;
    }
    auto entry = authorized.find(request.entry_id);
    if (entry == authorized.end()) {
      results.push_back(
          absl::NotFoundError("entry not found or not authorized"));
      continue;
    }
    results.push_back(SignX509(
        SpiffeIdString(entry->second.spiffe_id()), request.csr,
        {entry->second.dns_names().begin(), entry->second.dns_names().end()},
        absl::Seconds(entry->second.x509_svid_ttl())));
  }
  return results;
}

}  // namespace trellis::identity
