#include "identity/api/node_service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "ca/x509.h"
#include "spiffe/id.h"
#include "util/grpc_status.h"

namespace trellis::identity::api {

namespace node = spire::api::node;
namespace common = spire::common;

namespace {

constexpr char kJoinTokenType[] = "join_token";

// Legacy IDs of trust domains are "spiffe://<td>"; the v1 types hold bare
// names.
std::string TrustDomainId(absl::string_view trust_domain) {
  return absl::StrCat("spiffe://", trust_domain);
}

// The trust domain's bundle in the legacy shape, from one snapshot of the
// CA (Bundle()'s X.509 authorities are X509Roots()).
common::Bundle LegacyBundle(const ca::CaManager& ca) {
  const spire::api::types::Bundle bundle = ca.Bundle();
  common::Bundle out;
  out.set_trust_domain_id(TrustDomainId(bundle.trust_domain()));
  for (const spire::api::types::X509Certificate& root :
       bundle.x509_authorities()) {
    out.add_root_cas()->set_der_bytes(root.asn1());
  }
  for (const spire::api::types::JWTKey& key : bundle.jwt_authorities()) {
    common::PublicKey* legacy = out.add_jwt_signing_keys();
    legacy->set_pkix_bytes(key.public_key());
    legacy->set_kid(key.key_id());
    legacy->set_not_after(key.expires_at());
  }
  out.set_refresh_hint(bundle.refresh_hint());
  return out;
}

// v0.10 has no revision_number, store_svid, jwt_svid_ttl, hint or
// created_at; SPIFFE IDs are URI strings.
common::RegistrationEntry LegacyEntry(const Entry& entry) {
  common::RegistrationEntry out;
  for (const Selector& selector : entry.selectors()) {
    common::Selector* legacy = out.add_selectors();
    legacy->set_type(selector.type());
    legacy->set_value(selector.value());
  }
  out.set_parent_id(SpiffeIdString(entry.parent_id()));
  out.set_spiffe_id(SpiffeIdString(entry.spiffe_id()));
  out.set_ttl(entry.x509_svid_ttl());
  for (const std::string& td : entry.federates_with()) {
    // Stored bare by Create; an update may have kept the "spiffe://" form.
    out.add_federates_with(
        TrustDomainId(spiffe::ValidateTrustDomain(td).value_or(td)));
  }
  out.set_entry_id(entry.id());
  out.set_admin(entry.admin());
  out.set_downstream(entry.downstream());
  out.set_entryexpiry(entry.expires_at());
  for (const std::string& name : entry.dns_names()) out.add_dns_names(name);
  return out;
}

// Legacy SVIDs carry the chain as concatenated DER.
node::X509SVID LegacyX509Svid(const IssuedX509& svid) {
  node::X509SVID out;
  out.set_cert_chain(absl::StrJoin(svid.cert_chain, ""));
  out.set_expires_at(svid.expires_at);
  return out;
}

// Entries and bundles, as every X509SVIDUpdate carries them. Only the own
// trust domain's bundle: the v0.10 server also sent the bundles entries
// federate with, but this server holds none (and the old one failed the
// whole update when one was missing).
void FillUpdate(const ca::CaManager& ca, const std::vector<Entry>& entries,
                node::X509SVIDUpdate* update) {
  for (const Entry& entry : entries) {
    *update->add_registration_entries() = LegacyEntry(entry);
  }
  common::Bundle bundle = LegacyBundle(ca);
  std::string key = bundle.trust_domain_id();
  (*update->mutable_bundles())[key] = std::move(bundle);
}

// The v0.10 server answered every signing failure with this, whatever the
// cause; the cause is appended for the agent's log.
absl::Status SignFailure(absl::string_view key, const absl::Status& cause) {
  return absl::InternalError(absl::StrCat(
      "failed to sign CSRs: ",
      key.empty() ? ""
                  : absl::StrCat(absl::CHexEscape(key.substr(0, 128)), ": "),
      cause.message()));
}

// What one CSR of a FetchX509SVID request asks for.
struct CsrJob {
  std::string key;  // Where the SVID goes in the response's svids map.
  std::string csr;
  bool agent_renewal = false;
  std::string entry_id;  // Unless agent_renewal.
};

}  // namespace

std::vector<Entry> NodeService::AuthorizedEntries(
    const std::string& agent_id,
    const std::vector<Selector>& agent_selectors) const {
  std::vector<Entry> entries =
      entries_->AuthorizedEntries(agent_id, agent_selectors);
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.id() < b.id(); });
  return entries;
}

grpc::Status NodeService::Attest(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<node::AttestResponse, node::AttestRequest>*
        stream) {
  if (absl::Status s = LimitAttestation(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  node::AttestRequest request;
  if (!stream->Read(&request)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "missing attestation request");
  }
  if (!request.has_attestation_data()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "request missing attestation data");
  }
  const common::AttestationData& data = request.attestation_data();
  if (data.type().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "request missing attestation data type");
  }
  if (request.csr().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "request missing CSR");
  }
  // Join tokens only, and never a challenge: the v0.10 join_token attestor
  // fails on one.
  if (data.type() != kJoinTokenType) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        "could not find node attestor type \"" + data.type() + "\"");
  }
  absl::StatusOr<IssuedX509> svid =
      authority_.agents->AttestJoinToken(data.data(), request.csr());
  if (!svid.ok()) return ToGrpc(svid.status());

  node::AttestResponse response;
  node::X509SVIDUpdate* update = response.mutable_svid_update();
  // The agent takes the single key of this map as its SPIFFE ID.
  (*update->mutable_svids())[svid->spiffe_id] = LegacyX509Svid(*svid);
  // Join-token agents have no node selectors.
  FillUpdate(*authority_.ca, AuthorizedEntries(svid->spiffe_id, {}), update);
  stream->Write(response);
  return grpc::Status::OK;
}

absl::Status NodeService::BuildUpdate(const trellis::AttestedAgent& agent,
                                      const node::FetchX509SVIDRequest& request,
                                      node::X509SVIDUpdate* update) const {
  if (!request.csrs().empty() && !request.deprecated_csrs().empty()) {
    return absl::InvalidArgumentError(
        "cannot use 'Csrs' and 'DeprecatedCsrs' on the same "
        "'FetchX509Request'");
  }
  // kMaxEntryBatch is also the v0.10 agent's CSR limit (node.CSRLimit).
  if (request.csrs().size() > kMaxEntryBatch ||
      static_cast<size_t>(request.deprecated_csrs_size()) > kMaxEntryBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxEntryBatch, " CSRs per request"));
  }
  const std::string& agent_id = agent.spiffe_id();
  const std::vector<Entry> entries = AuthorizedEntries(
      agent_id, {agent.selectors().begin(), agent.selectors().end()});

  // As the v0.10 server: a CSR whose URI SAN is the caller's own agent ID
  // renews the agent SVID; any other is for an authorised entry, named by
  // the map key (csrs) or by the CSR's URI SAN (DEPRECATED_csrs). The
  // managers sign the entry's SPIFFE ID, whatever the CSR says.
  const bool caller_is_agent = absl::StartsWith(
      agent_id,
      absl::StrCat(TrustDomainId(authority_.ca->options().trust_domain),
                   "/spire/agent/"));
  std::vector<CsrJob> jobs;
  // `entry_key`: the csrs map key; null for DEPRECATED_csrs, whose SVIDs
  // are keyed by the CSR's SPIFFE ID.
  const auto classify = [&](const std::string* entry_key,
                            const std::string& csr) -> absl::Status {
    absl::StatusOr<ca::CertificateRequest> parsed =
        ca::ParseCsr(csr, /*check_signature=*/false);
    const std::string uri = parsed.ok() && parsed->uri_sans.size() == 1
                                ? parsed->uri_sans.front()
                                : std::string();
    CsrJob job;
    job.key = entry_key != nullptr ? *entry_key : uri;
    job.csr = csr;
    if (!parsed.ok()) return SignFailure(job.key, parsed.status());
    if (parsed->uri_sans.size() > 1) {
      return SignFailure(job.key, absl::InvalidArgumentError(
                                      "CSR cannot have more than one URI SAN"));
    }
    if (caller_is_agent && uri == agent_id) {
      job.agent_renewal = true;
    } else if (entry_key != nullptr) {
      job.entry_id = *entry_key;
    } else {
      // Several entries may share a SPIFFE ID; any authorised one will do.
      auto entry = std::find_if(
          entries.begin(), entries.end(),
          [&](const Entry& e) { return SpiffeIdString(e.spiffe_id()) == uri; });
      if (uri.empty() || entry == entries.end()) {
        return SignFailure(
            job.key,
            absl::NotFoundError("not entitled to sign CSR for given ID type"));
      }
      job.entry_id = entry->id();
    }
    jobs.push_back(std::move(job));
    return absl::OkStatus();
  };
  for (const auto& item : request.csrs()) {
    if (absl::Status s = classify(&item.first, item.second); !s.ok()) return s;
  }
  for (const std::string& csr : request.deprecated_csrs()) {
    if (absl::Status s = classify(nullptr, csr); !s.ok()) return s;
  }
  if (std::count_if(jobs.begin(), jobs.end(),
                    [](const CsrJob& job) { return job.agent_renewal; }) > 1) {
    return absl::InvalidArgumentError(
        "at most one agent SVID renewal per request");
  }

  // Entry SVIDs first, in one batch (one issuance-log write); then the
  // renewal, so that a failed batch leaves the agent record untouched.
  std::vector<X509SvidRequest> requests;
  std::vector<const CsrJob*> batched;
  const CsrJob* renewal = nullptr;
  for (const CsrJob& job : jobs) {
    if (job.agent_renewal) {
      renewal = &job;
      continue;
    }
    requests.push_back({job.entry_id, job.csr});
    batched.push_back(&job);
  }
  auto* svids = update->mutable_svids();
  if (!requests.empty()) {
    absl::StatusOr<std::vector<absl::StatusOr<IssuedX509>>> results =
        svids_->BatchNewX509Svid(agent, requests);
    if (!results.ok()) return results.status();
    for (size_t i = 0; i < results->size(); ++i) {
      const absl::StatusOr<IssuedX509>& result = (*results)[i];
      if (!result.ok()) return SignFailure(batched[i]->key, result.status());
      (*svids)[batched[i]->key] = LegacyX509Svid(*result);
    }
  }
  if (renewal != nullptr) {
    // RequireAgent has made the presented SVID the current one, as the old
    // server's serial check wants.
    // Legacy agents never attest with sovereign evidence, so a renewal
    // always yields an SVID (never a challenge).
    absl::StatusOr<AgentManager::Renewal> renewed =
        authority_.agents->Renew(agent, renewal->csr);
    if (renewed.ok() && !renewed->svid.has_value()) {
      renewed = absl::FailedPreconditionError(
          "this agent renews with sovereign evidence, which the legacy API "
          "cannot carry");
    }
    if (!renewed.ok()) return SignFailure(renewal->key, renewed.status());
    (*svids)[renewal->key] = LegacyX509Svid(*renewed->svid);
  }
  FillUpdate(*authority_.ca, entries, update);
  return absl::OkStatus();
}

grpc::Status NodeService::FetchX509SVID(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<node::FetchX509SVIDResponse,
                             node::FetchX509SVIDRequest>* stream) {
  absl::StatusOr<trellis::AttestedAgent> agent =
      RequireAgent(authority_, *context);
  if (!agent.ok()) return ToGrpc(agent.status());
  // One request, one response. The v0.10 server answered requests until
  // the client closed its side, but its agents send exactly one (then close
  // and read to the end); stopping after one frees the handler thread
  // whatever the client does.
  node::FetchX509SVIDRequest request;
  // Nothing asked, nothing answered (as the v0.10 server).
  if (!stream->Read(&request)) return grpc::Status::OK;
  // Empty CSR maps are how agents sync entries and bundles.
  node::FetchX509SVIDResponse response;
  if (absl::Status s =
          BuildUpdate(*agent, request, response.mutable_svid_update());
      !s.ok()) {
    return ToGrpc(s);
  }
  stream->Write(response);
  return grpc::Status::OK;
}

grpc::Status NodeService::FetchJWTSVID(grpc::ServerContext* context,
                                       const node::FetchJWTSVIDRequest* request,
                                       node::FetchJWTSVIDResponse* response) {
  absl::StatusOr<trellis::AttestedAgent> agent =
      RequireAgent(authority_, *context);
  if (!agent.ok()) return ToGrpc(agent.status());
  if (!request->has_jsr()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "request missing JSR");
  }
  const node::JSR& jsr = request->jsr();
  if (jsr.spiffe_id().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "request missing SPIFFE ID");
  }
  if (jsr.audience().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "request missing audience");
  }
  // The legacy request names a SPIFFE ID, the manager an entry: any
  // authorised entry with that ID. jsr.ttl is not honoured (the entry's JWT
  // TTL or the default applies); v0.10 agents never set it.
  const std::vector<Entry> entries =
      AuthorizedEntries(agent->spiffe_id(),
                        {agent->selectors().begin(), agent->selectors().end()});
  auto entry =
      std::find_if(entries.begin(), entries.end(), [&](const Entry& e) {
        return SpiffeIdString(e.spiffe_id()) == jsr.spiffe_id();
      });
  if (entry == entries.end()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "caller is not authorized");
  }
  absl::StatusOr<IssuedJwt> svid = svids_->NewJwtSvid(
      *agent, entry->id(), {jsr.audience().begin(), jsr.audience().end()});
  if (!svid.ok()) return ToGrpc(svid.status());
  node::JWTSVID* out = response->mutable_svid();
  out->set_token(svid->jwt.token);
  out->set_issued_at(absl::ToUnixSeconds(svid->jwt.issued_at));
  out->set_expires_at(absl::ToUnixSeconds(svid->jwt.expires_at));
  return grpc::Status::OK;
}

grpc::Status NodeService::FetchX509CASVID(
    grpc::ServerContext* context, const node::FetchX509CASVIDRequest* request,
    node::FetchX509CASVIDResponse* response) {
  absl::StatusOr<ca::VerifiedSvid> caller = RequireSvid(authority_, *context);
  if (!caller.ok()) return ToGrpc(caller.status());
  absl::StatusOr<ca::CaManager::DownstreamCa> issued =
      svids_->NewDownstreamX509Ca(caller->spiffe_id, request->csr(),
                                  absl::ZeroDuration());
  if (!issued.ok()) return ToGrpc(issued.status());
  std::string chain;
  for (const std::string& der : issued->chain) chain += der;
  response->mutable_svid()->set_cert_chain(chain);
  absl::StatusOr<absl::Time> not_after = ca::NotAfter(issued->chain.front());
  if (!not_after.ok()) return ToGrpc(not_after.status());
  response->mutable_svid()->set_expires_at(absl::ToUnixSeconds(*not_after));
  *response->mutable_bundle() = LegacyBundle(*authority_.ca);
  return grpc::Status::OK;
}

grpc::Status NodeService::PushJWTKeyUpstream(
    grpc::ServerContext* context,
    const node::PushJWTKeyUpstreamRequest* request,
    node::PushJWTKeyUpstreamResponse* response) {
  absl::StatusOr<ca::VerifiedSvid> caller = RequireSvid(authority_, *context);
  if (!caller.ok()) return ToGrpc(caller.status());
  spire::api::types::JWTKey key;
  key.set_public_key(request->jwt_key().pkix_bytes());
  key.set_key_id(request->jwt_key().kid());
  key.set_expires_at(request->jwt_key().not_after());
  absl::StatusOr<std::vector<spire::api::types::JWTKey>> keys =
      bundles_->PublishJwtAuthority(caller->spiffe_id, key);
  if (!keys.ok()) return ToGrpc(keys.status());
  for (const spire::api::types::JWTKey& held : *keys) {
    common::PublicKey* out = response->add_jwt_signing_keys();
    out->set_pkix_bytes(held.public_key());
    out->set_kid(held.key_id());
    out->set_not_after(held.expires_at());
  }
  return grpc::Status::OK;
}

grpc::Status NodeService::FetchBundle(grpc::ServerContext* context,
                                      const node::FetchBundleRequest*,
                                      node::FetchBundleResponse* response) {
  // The v0.10 server took any verified client certificate: agents and
  // downstream servers (whose SVIDs chain to the bundle) here.
  absl::StatusOr<ca::VerifiedSvid> caller = RequireSvid(authority_, *context);
  if (!caller.ok()) return ToGrpc(caller.status());
  *response->mutable_bundle() = LegacyBundle(*authority_.ca);
  return grpc::Status::OK;
}

}  // namespace trellis::identity::api
