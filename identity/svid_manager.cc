#include "identity/svid_manager.h"

#include "absl/container/flat_hash_map.h"

namespace trellis::identity {

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
    absl::StatusOr<ca::CertificateRequest> csr =
        ca::ParseCsr(request.csr, /*check_signature=*/true);
    if (!csr.ok()) {
      results.push_back(csr.status());
      continue;
    }
    const std::string spiffe_id = SpiffeIdString(entry->second.spiffe_id());
    absl::StatusOr<std::vector<std::string>> chain = ca_->SignX509Svid(
        spiffe_id, csr->public_key_der,
        {entry->second.dns_names().begin(), entry->second.dns_names().end()},
        absl::Seconds(entry->second.x509_svid_ttl()));
    if (!chain.ok()) {
      results.push_back(chain.status());
      continue;
    }
    absl::StatusOr<absl::Time> not_after = ca::NotAfter(chain->front());
    if (!not_after.ok()) {
      results.push_back(not_after.status());
      continue;
    }
    results.push_back(AgentSvid{spiffe_id, std::move(*chain),
                                absl::ToUnixSeconds(*not_after)});
  }
  return results;
}

}  // namespace trellis::identity
