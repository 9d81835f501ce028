#include "agent/workload_api.h"

#include <set>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "agent/snapshot_stream.h"
#include "ca/jwt.h"
#include "spiffe/bundle_document.h"
#include "util/grpc_status.h"

namespace trellis::agent {
namespace {

using spire::api::types::Entry;

std::string Concatenated(const std::vector<std::string>& ders) {
  std::string out;
  for (const std::string& der : ders) out += der;
  return out;
}

std::string X509Roots(const spire::api::types::Bundle& bundle) {
  std::string out;
  for (const auto& authority : bundle.x509_authorities()) {
    out += authority.asn1();
  }
  return out;
}

// The JWT authorities of a bundle as a JWKS document.
std::string JwtKeys(const spire::api::types::Bundle& bundle) {
  spiffe::BundleDocument document;
  for (const auto& key : bundle.jwt_authorities()) {
    document.jwt_authorities.push_back({key.key_id(), key.public_key()});
  }
  document.sequence = bundle.sequence_number();
  absl::StatusOr<std::string> text = spiffe::EncodeBundle(document);
  return text.ok() ? *text : std::string(R"({"keys":[]})");
}

std::string SpiffeId(const spire::api::types::SPIFFEID& id) {
  return absl::StrCat("spiffe://", id.trust_domain(), id.path());
}

std::string TrustDomainOf(absl::string_view spiffe_id) {
  absl::ConsumePrefix(&spiffe_id, "spiffe://");
  return std::string(spiffe_id.substr(0, spiffe_id.find('/')));
}

bool HasSecurityHeader(const grpc::ServerContextBase& context) {
  const auto range =
      context.client_metadata().equal_range("workload.spiffe.io");
  if (std::distance(range.first, range.second) != 1) return false;
  return range.first->second == "true";
}

}  // namespace

absl::StatusOr<std::vector<const Entry*>> WorkloadApi::Attest(
    const grpc::ServerContextBase& context, const Snapshot& snapshot) const {
  if (!HasSecurityHeader(context)) {
    return absl::InvalidArgumentError("security header missing from request");
  }
  std::optional<PeerCredentials> peer = peers_->Lookup(context.peer());
  if (!peer.has_value()) {
    return absl::PermissionDeniedError("cannot tell who the caller is");
  }
  // Only the selectors some entry uses are looked up (hashing the caller's
  // binary on every call would dominate the API's cost).
  UnixSelectorKinds kinds{false, false, false, false, false};
  for (const auto& [id, entry] : snapshot.entries) {
    for (const spire::api::types::Selector& s : entry.selectors()) {
      if (s.type() != "unix") continue;
      const absl::string_view value = s.value();
      kinds.user |= absl::StartsWith(value, "user:");
      kinds.group |= absl::StartsWith(value, "group:");
      kinds.path |= absl::StartsWith(value, "path:");
      kinds.sha256 |= absl::StartsWith(value, "sha256:");
      kinds.supplementary |= absl::StartsWith(value, "supplementary_");
    }
  }
  std::set<std::string> held;
  for (const spire::api::types::Selector& s : UnixSelectors(*peer, kinds)) {
    held.insert(absl::StrCat(s.type(), ":", s.value()));
  }
  std::vector<const Entry*> matched;
  for (const auto& [id, entry] : snapshot.entries) {
    bool all = true;
    for (const spire::api::types::Selector& s : entry.selectors()) {
      if (!held.count(absl::StrCat(s.type(), ":", s.value()))) {
        all = false;
        break;
      }
    }
    if (all) matched.push_back(&entry);
  }
  if (matched.empty()) {
    return absl::PermissionDeniedError("no identity issued");
  }
  return matched;
}

absl::StatusOr<X509SVIDResponse> WorkloadApi::SovereignResponse(
    const grpc::ServerContextBase& context,
    const spire::api::types::SovereignAttestation& evidence) {
  const std::shared_ptr<const Snapshot> snapshot = agent_->Current();
  absl::StatusOr<std::vector<const Entry*>> entries =
      Attest(context, *snapshot);
  if (!entries.ok()) return entries.status();
  absl::StatusOr<std::vector<SovereignSvid>> minted =
      agent_->MintSovereignSvids(*entries, evidence);
  if (!minted.ok()) return minted.status();
  X509SVIDResponse response;
  const std::string roots = X509Roots(snapshot->bundle);
  for (const SovereignSvid& minted_svid : *minted) {
    X509SVID* out = response.add_svids();
    out->set_spiffe_id(minted_svid.svid.spiffe_id);
    out->set_x509_svid(Concatenated(minted_svid.svid.chain_der));
    out->set_x509_svid_key(minted_svid.svid.key_der);
    out->set_bundle(roots);
    *response.add_attested_claims() = minted_svid.claims;
  }
  return response;
}

// A sovereign FetchX509SVID: the SVIDs are minted for this request (TPM
// work and server calls, on a thread of its own), written once, and the
// stream stays open without rotation: they rest on one verdict each, and a
// workload asks again, with new evidence, for new ones.
class WorkloadApi::SovereignStream final
    : public grpc::ServerWriteReactor<X509SVIDResponse> {
 public:
  SovereignStream(WorkloadApi* api, grpc::CallbackServerContext* context,
                  spire::api::types::SovereignAttestation evidence)
      : worker_([this, api, context, evidence = std::move(evidence)] {
          absl::StatusOr<X509SVIDResponse> response =
              api->SovereignResponse(*context, evidence);
          absl::MutexLock lock(&mu_);
          if (finished_) return;
          if (!response.ok()) {
            finished_ = true;
            Finish(ToGrpc(response.status()));
            return;
          }
          response_ = std::move(*response);
          StartWrite(&response_);
        }) {}

  void OnWriteDone(bool ok) override {
    if (!ok) FinishOnce(grpc::Status::OK);
  }
  void OnCancel() override { FinishOnce(grpc::Status::CANCELLED); }
  void OnDone() override {
    worker_.join();
    delete this;
  }

 private:
  void FinishOnce(const grpc::Status& status) {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  absl::Mutex mu_;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  X509SVIDResponse response_;
  std::thread worker_;  // Last: started once the rest is built.
};

grpc::ServerWriteReactor<X509SVIDResponse>* WorkloadApi::FetchX509SVID(
    grpc::CallbackServerContext* context, const X509SVIDRequest* request) {
  // Without the Unified-Identity flag the field is ignored, as the design
  // says.
  if (request->has_sovereign_attestation() &&
      agent_->config().unified_identity) {
    return new SovereignStream(this, context, request->sovereign_attestation());
  }
  return new SnapshotStream<X509SVIDResponse>(
      agent_,
      [this, context](const Snapshot& snapshot)
          -> absl::StatusOr<std::optional<X509SVIDResponse>> {
        absl::StatusOr<std::vector<const Entry*>> entries =
            Attest(*context, snapshot);
        if (!entries.ok()) return entries.status();
        X509SVIDResponse response;
        const std::string roots = X509Roots(snapshot.bundle);
        for (const Entry* entry : *entries) {
          auto svid = snapshot.svids.find(entry->id());
          if (svid == snapshot.svids.end()) continue;  // Not minted yet.
          X509SVID* out = response.add_svids();
          out->set_spiffe_id(svid->second.spiffe_id);
          out->set_x509_svid(Concatenated(svid->second.chain_der));
          out->set_x509_svid_key(svid->second.key_der);
          out->set_bundle(roots);
          out->set_hint(entry->hint());
          for (const std::string& td : entry->federates_with()) {
            const std::string name(absl::StripPrefix(td, "spiffe://"));
            auto bundle = snapshot.federated.find(name);
            if (bundle != snapshot.federated.end()) {
              (*response.mutable_federated_bundles())[absl::StrCat(
                  "spiffe://", name)] = X509Roots(bundle->second);
            }
          }
        }
        if (response.svids().empty()) return std::nullopt;
        return response;
      });
}

grpc::ServerWriteReactor<X509BundlesResponse>* WorkloadApi::FetchX509Bundles(
    grpc::CallbackServerContext* context, const X509BundlesRequest*) {
  return new SnapshotStream<X509BundlesResponse>(
      agent_,
      [this, context](const Snapshot& snapshot)
          -> absl::StatusOr<std::optional<X509BundlesResponse>> {
        absl::StatusOr<std::vector<const Entry*>> entries =
            Attest(*context, snapshot);
        if (!entries.ok()) return entries.status();
        X509BundlesResponse response;
        (*response.mutable_bundles())[absl::StrCat(
            "spiffe://", snapshot.bundle.trust_domain())] =
            X509Roots(snapshot.bundle);
        for (const auto& [td, bundle] : snapshot.federated) {
          (*response.mutable_bundles())[absl::StrCat("spiffe://", td)] =
              X509Roots(bundle);
        }
        return response;
      });
}

grpc::ServerWriteReactor<JWTBundlesResponse>* WorkloadApi::FetchJWTBundles(
    grpc::CallbackServerContext* context, const JWTBundlesRequest*) {
  return new SnapshotStream<JWTBundlesResponse>(
      agent_,
      [this, context](const Snapshot& snapshot)
          -> absl::StatusOr<std::optional<JWTBundlesResponse>> {
        absl::StatusOr<std::vector<const Entry*>> entries =
            Attest(*context, snapshot);
        if (!entries.ok()) return entries.status();
        JWTBundlesResponse response;
        (*response.mutable_bundles())[absl::StrCat(
            "spiffe://", snapshot.bundle.trust_domain())] =
            JwtKeys(snapshot.bundle);
        for (const auto& [td, bundle] : snapshot.federated) {
          (*response.mutable_bundles())[absl::StrCat("spiffe://", td)] =
              JwtKeys(bundle);
        }
        return response;
      });
}

grpc::Status WorkloadApi::FetchJWTSVID(grpc::ServerContext* context,
                                       const JWTSVIDRequest* request,
                                       JWTSVIDResponse* response) {
  if (!HasSecurityHeader(*context)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "security header missing from request");
  }
  if (request->audience().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "audience must be specified");
  }
  const std::shared_ptr<const Snapshot> snapshot = agent_->Current();
  absl::StatusOr<std::vector<const Entry*>> entries =
      Attest(*context, *snapshot);
  if (!entries.ok()) return ToGrpc(entries.status());
  const std::vector<std::string> audiences(request->audience().begin(),
                                           request->audience().end());
  std::set<std::string> issued;
  for (const Entry* entry : *entries) {
    const std::string id = SpiffeId(entry->spiffe_id());
    if (!request->spiffe_id().empty() && request->spiffe_id() != id) continue;
    if (!issued.insert(id).second) continue;
    absl::StatusOr<JwtSvid> svid = agent_->FetchJwtSvid(*entry, audiences);
    if (!svid.ok()) return ToGrpc(svid.status());
    JWTSVID* out = response->add_svids();
    out->set_spiffe_id(svid->spiffe_id);
    out->set_svid(svid->token);
    out->set_hint(entry->hint());
  }
  if (response->svids().empty()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "no identity issued");
  }
  return grpc::Status::OK;
}

grpc::Status WorkloadApi::ValidateJWTSVID(grpc::ServerContext* context,
                                          const ValidateJWTSVIDRequest* request,
                                          ValidateJWTSVIDResponse* response) {
  if (!HasSecurityHeader(*context)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "security header missing from request");
  }
  if (request->audience().empty() || request->svid().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "audience and svid must be specified");
  }
  const std::shared_ptr<const Snapshot> snapshot = agent_->Current();
  if (absl::StatusOr<std::vector<const Entry*>> entries =
          Attest(*context, *snapshot);
      !entries.ok()) {
    return ToGrpc(entries.status());
  }
  // Each trust domain's keys vouch only for its own IDs: a federated
  // domain cannot mint a token naming ours.
  std::vector<const spire::api::types::Bundle*> bundles = {&snapshot->bundle};
  for (const auto& [td, bundle] : snapshot->federated) {
    bundles.push_back(&bundle);
  }
  absl::Status last = absl::InvalidArgumentError("no JWT authority");
  for (const spire::api::types::Bundle* bundle : bundles) {
    absl::flat_hash_map<std::string, std::string> keys;
    for (const auto& key : bundle->jwt_authorities()) {
      keys[key.key_id()] = key.public_key();
    }
    absl::StatusOr<ca::JwtSvidClaims> claims = ca::VerifyJwtSvid(
        request->svid(), keys, request->audience(), absl::Now());
    if (!claims.ok()) {
      last = claims.status();
      continue;
    }
    if (TrustDomainOf(claims->subject) != bundle->trust_domain()) {
      last = absl::InvalidArgumentError(
          "token signed by another trust domain than its subject's");
      continue;
    }
    response->set_spiffe_id(claims->subject);
    auto& fields = *response->mutable_claims()->mutable_fields();
    fields["sub"].set_string_value(claims->subject);
    auto* audience = fields["aud"].mutable_list_value();
    for (const std::string& a : claims->audiences) {
      audience->add_values()->set_string_value(a);
    }
    fields["exp"].set_number_value(
        static_cast<double>(absl::ToUnixSeconds(claims->expires_at)));
    fields["iat"].set_number_value(
        static_cast<double>(absl::ToUnixSeconds(claims->issued_at)));
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      std::string(last.message()));
}

}  // namespace trellis::agent
