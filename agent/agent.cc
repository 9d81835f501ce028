#include "agent/agent.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "ca/csr.h"
#include "ca/svid_verify.h"
#include "ca/x509.h"
#include "crypto/digest.h"
#include "crypto/keys.h"
#include "httplib.h"
#include "logging/log.h"
#include "nlohmann/json.hpp"
#include "spiffe/bundle_document.h"
#include "spire/api/server/agent/v1/agent.grpc.pb.h"
#include "spire/api/server/bundle/v1/bundle.grpc.pb.h"
#include "spire/api/server/svid/v1/svid.grpc.pb.h"
#include "spire/api/types/status.pb.h"
#include "util/file.h"
#include "util/grpc_status.h"
#include "util/json_fields.h"

namespace trellis::agent {
namespace {

namespace agent_v1 = spire::api::server::agent::v1;
namespace bundle_v1 = spire::api::server::bundle::v1;
namespace svid_v1 = spire::api::server::svid::v1;
using spire::api::types::Entry;
using Reason = spire::api::types::PermissionDeniedDetails;

constexpr absl::Duration kRpcTimeout = absl::Seconds(30);
// CSRs per BatchNewX509SVID call, as upstream agents send them.
constexpr size_t kMaxCsrsPerCall = 500;

void Log(logging::Level level, absl::string_view message,
         logging::Fields fields = {}) {
  logging::Log(level, "trellis-agent", message, fields);
}

std::unique_ptr<grpc::ClientContext> Context() {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + kRpcTimeout));
  return context;
}

bool PastHalfLife(absl::Time not_before, absl::Time not_after, absl::Time now) {
  return now >= not_before + (not_after - not_before) / 2;
}

// A new P-256 key (PEM PKCS#8 and the key) and a CSR for `spiffe_id`.
struct KeyAndCsr {
  crypto::PrivateKey key;
  std::string csr;
};
absl::StatusOr<KeyAndCsr> NewKeyAndCsr(const std::string& spiffe_id) {
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::GenerateKey(keyspb::Specification());
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> csr = ca::MakeCsr(**key, spiffe_id);
  if (!csr.ok()) return csr.status();
  return KeyAndCsr{std::move(*key), std::move(*csr)};
}

std::vector<std::string> Roots(const spire::api::types::Bundle& bundle) {
  std::vector<std::string> roots;
  for (const auto& authority : bundle.x509_authorities()) {
    roots.push_back(authority.asn1());
  }
  return roots;
}

// Roots SVIDs may rest on: the bundle's, less the tainted ones.
std::vector<std::string> UntaintedRoots(
    const spire::api::types::Bundle& bundle) {
  std::vector<std::string> roots;
  for (const auto& authority : bundle.x509_authorities()) {
    if (!authority.tainted()) roots.push_back(authority.asn1());
  }
  return roots;
}

// The bootstrap roots from trust_bundle_path or trust_bundle_url (an https
// URL checked against the system's CAs).
absl::StatusOr<std::vector<std::string>> BootstrapRoots(
    const AgentConfig& config) {
  std::string pem;
  if (!config.trust_bundle_path.empty()) {
    absl::StatusOr<std::string> read = ReadFile(config.trust_bundle_path);
    if (!read.ok()) return read.status();
    pem = std::move(*read);
  } else {
    absl::string_view rest = config.trust_bundle_url;
    if (!absl::ConsumePrefix(&rest, "https://")) {
      return absl::InvalidArgumentError("trust_bundle_url must be https");
    }
    const size_t slash = rest.find('/');
    const std::string host(rest.substr(0, slash));
    const std::string path(
        slash == absl::string_view::npos ? "/" : rest.substr(slash));
    httplib::Client client(absl::StrCat("https://", host));
    client.enable_server_certificate_verification(true);
    client.set_connection_timeout(10);
    httplib::Result res = client.Get(path);
    if (!res || res->status != 200) {
      return absl::UnavailableError(
          absl::StrCat("cannot fetch ", config.trust_bundle_url));
    }
    if (config.trust_bundle_format == "spiffe") {
      absl::StatusOr<spiffe::BundleDocument> document =
          spiffe::DecodeBundle(res->body);
      if (!document.ok()) return document.status();
      if (document->x509_authorities.empty()) {
        return absl::InvalidArgumentError(
            "the trust bundle holds no X.509 authority");
      }
      return document->x509_authorities;
    }
    pem = res->body;
  }
  absl::StatusOr<std::vector<std::string>> roots =
      ca::CertificatesFromPem(pem, 1024);
  if (!roots.ok() || roots->empty()) {
    return absl::InvalidArgumentError("the trust bundle holds no certificate");
  }
  return roots;
}

// The kid in a compact JWS's header ("" if it has none).
std::string KeyIdOf(const std::string& token) {
  std::string header;
  if (!absl::WebSafeBase64Unescape(token.substr(0, token.find('.')), &header)) {
    return "";
  }
  const nlohmann::json parsed = nlohmann::json::parse(header, nullptr, false);
  absl::StatusOr<std::string> kid = json_fields::String(parsed, "kid");
  return kid.ok() ? *kid : "";
}

// A fingerprint of what workloads see, to publish only real changes.
std::string Fingerprint(const Snapshot& s) {
  std::string text;
  for (const auto& [id, entry] : s.entries) {
    absl::StrAppend(&text, id, ":", entry.revision_number(), ";");
  }
  for (const auto& [id, svid] : s.svids) {
    absl::StrAppend(&text, id, "=", svid.chain_der.front().size(), "/",
                    absl::ToUnixNanos(svid.not_after), ";");
  }
  absl::StrAppend(&text, s.bundle.SerializeAsString());
  for (const auto& [td, bundle] : s.federated) {
    absl::StrAppend(&text, td, bundle.SerializeAsString());
  }
  return crypto::Digest(crypto::DigestAlgorithm::kSha256, {text});
}

}  // namespace

Agent::Agent(AgentConfig config, AgentStore store)
    : config_(std::move(config)), store_(std::move(store)) {
  snapshot_ = std::make_shared<const Snapshot>();
}

absl::StatusOr<std::unique_ptr<Agent>> Agent::Start(const AgentConfig& config) {
  if (absl::Status s = ValidateConfig(config); !s.ok()) return s;
  absl::StatusOr<AgentStore> store = AgentStore::Open(config.data_dir);
  if (!store.ok()) return store.status();
  std::unique_ptr<Agent> agent(new Agent(config, std::move(*store)));
  absl::StatusOr<std::unique_ptr<NodeAttestor>> attestor =
      MakeNodeAttestor(config);
  if (!attestor.ok()) return attestor.status();
  agent->attestor_ = std::move(*attestor);

  // The roots: those stored at the last sync, else the bootstrap ones.
  absl::StatusOr<std::optional<std::vector<std::string>>> stored =
      agent->store_.LoadBundle();
  if (!stored.ok()) return stored.status();
  if (stored->has_value()) {
    agent->roots_->Set(**stored);
  } else if (!config.insecure_bootstrap) {
    absl::StatusOr<std::vector<std::string>> roots = BootstrapRoots(config);
    if (!roots.ok()) return roots.status();
    agent->roots_->Set(*roots);
  }
  // What was served before the restart is served again at once, even if
  // the server cannot be reached; expired SVIDs are left out.
  absl::StatusOr<std::optional<Snapshot>> cached = agent->store_.LoadSnapshot();
  if (!cached.ok()) {
    Log(logging::Level::kWarning, "ignoring the SVID cache",
        {{"error", cached.status().message()}});
  } else if (cached->has_value()) {
    Snapshot restored = std::move(**cached);
    for (auto it = restored.svids.begin(); it != restored.svids.end();) {
      if (it->second.not_after <= absl::Now()) {
        restored.svids.erase(it++);
      } else {
        ++it;
      }
    }
    agent->Publish(std::move(restored), /*persist=*/false);
  }
  absl::StatusOr<std::optional<AgentSvid>> svid = agent->store_.LoadSvid();
  if (!svid.ok()) return svid.status();
  if (svid->has_value() && (*svid)->not_after > absl::Now() &&
      !agent->roots_->Get().empty()) {
    agent->UseSvid(std::move(**svid));
  } else if (absl::Status s = agent->AttestNode(); !s.ok()) {
    return s;
  }
  if (absl::Status s = agent->SyncOnce(); !s.ok()) {
    if (agent->banned() || absl::IsPermissionDenied(s)) return s;
    Log(logging::Level::kWarning, "first sync failed, retrying",
        {{"spiffe_id", agent->spiffe_id()}, {"error", s.ToString()}});
  }
  agent->loop_ = std::thread([a = agent.get()] { a->Loop(); });
  return agent;
}

Agent::~Agent() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (loop_.joinable()) loop_.join();
}

std::shared_ptr<const Snapshot> Agent::Current() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

std::shared_ptr<const Snapshot> Agent::WaitForChange(
    uint64_t seen, absl::Time deadline) const {
  absl::MutexLock lock(&mu_);
  const auto changed = [this, seen]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return snapshot_->generation != seen || stopping_;
  };
  mu_.AwaitWithDeadline(absl::Condition(&changed), deadline);
  return snapshot_;
}

bool Agent::banned() const {
  absl::MutexLock lock(&mu_);
  return banned_;
}

std::string Agent::spiffe_id() const {
  absl::MutexLock lock(&mu_);
  return svid_.has_value() ? svid_->spiffe_id : "";
}

std::shared_ptr<grpc::Channel> Agent::Channel() const {
  absl::MutexLock lock(&mu_);
  return channel_;
}

absl::Status Agent::AttestNode() {
  absl::StatusOr<KeyAndCsr> request = NewKeyAndCsr("");
  if (!request.ok()) return request.status();
  const bool insecure = roots_->Get().empty();
  std::shared_ptr<grpc::Channel> bootstrap =
      ServerChannel({ServerAddress(), config_.trust_domain,
                     insecure ? nullptr : roots_, "", ""});
  absl::StatusOr<AttestedNode> node =
      agent::AttestNode(bootstrap, *attestor_, request->csr);
  if (!node.ok()) return node.status();
  // The trust domain's bundle, on the same connection, replaces the
  // bootstrap roots.
  spire::api::types::Bundle bundle;
  grpc::Status got = bundle_v1::Bundle::NewStub(bootstrap)->GetBundle(
      Context().get(), bundle_v1::GetBundleRequest(), &bundle);
  if (!got.ok()) return FromGrpc(got);
  if (bundle.x509_authorities().empty()) {
    return absl::InternalError("the server's bundle holds no X.509 root");
  }
  roots_->Set(Roots(bundle));
  if (absl::Status s = store_.SaveBundle(Roots(bundle)); !s.ok()) return s;

  return AdoptSvid(*request->key, std::move(node->chain_der),
                   node->reattestable);
}

std::string Agent::ServerAddress() const {
  return absl::StrCat(config_.server_address, ":", config_.server_port);
}

void Agent::UseSvid(AgentSvid svid) {
  std::shared_ptr<grpc::Channel> channel =
      ServerChannel({ServerAddress(), config_.trust_domain, roots_,
                     svid.key_pem, svid.ChainPem()});
  absl::MutexLock lock(&mu_);
  channel_ = std::move(channel);
  svid_ = std::move(svid);
}

absl::Status Agent::AdoptSvid(const EVP_PKEY& key,
                              std::vector<std::string> chain_der,
                              bool reattestable) {
  absl::StatusOr<std::string> key_der = crypto::MarshalPrivateKey(key);
  if (!key_der.ok()) return key_der.status();
  AgentSvid svid;
  svid.key_pem = ca::DerToPem(*key_der, "PRIVATE KEY");
  svid.chain_der = std::move(chain_der);
  svid.reattestable = reattestable;
  if (absl::Status s = DescribeSvid(svid); !s.ok()) return s;
  if (absl::Status s = store_.SaveSvid(svid); !s.ok()) return s;
  Log(logging::Level::kInfo, "agent SVID",
      {{"spiffe_id", svid.spiffe_id},
       {"not_after", absl::FormatTime(svid.not_after, absl::UTCTimeZone())}});
  UseSvid(std::move(svid));
  return absl::OkStatus();
}

absl::Status Agent::RenewSvidIfDue(const spire::api::types::Bundle* bundle) {
  AgentSvid current;
  {
    absl::MutexLock lock(&mu_);
    current = *svid_;
  }
  const bool tainted =
      bundle != nullptr &&
      !ca::VerifySvidChain(current.ChainPem(), UntaintedRoots(*bundle)).ok();
  if (tainted)
    Log(logging::Level::kInfo,
        "the agent SVID rests on a tainted authority: renewing",
        {{"spiffe_id", current.spiffe_id}});
  if (!tainted &&
      !PastHalfLife(current.not_before, current.not_after, absl::Now())) {
    return absl::OkStatus();
  }
  if (current.reattestable) return AttestNode();
  absl::StatusOr<KeyAndCsr> request = NewKeyAndCsr("");
  if (!request.ok()) return request.status();
  agent_v1::RenewAgentRequest renew;
  renew.mutable_params()->set_csr(request->csr);
  agent_v1::RenewAgentResponse renewed;
  grpc::Status status = agent_v1::Agent::NewStub(Channel())->RenewAgent(
      Context().get(), renew, &renewed);
  if (!status.ok()) return FromGrpc(status);
  if (renewed.svid().cert_chain().empty()) {
    return absl::InternalError("RenewAgent answered without an SVID");
  }
  return AdoptSvid(
      *request->key,
      {renewed.svid().cert_chain().begin(), renewed.svid().cert_chain().end()},
      /*reattestable=*/false);
}

absl::Status Agent::HandleDenied(const absl::Status& status) {
  if (!absl::IsPermissionDenied(status)) return status;
  absl::optional<absl::Cord> payload = status.GetPayload(
      "type.googleapis.com/spire.api.types.PermissionDeniedDetails");
  Reason details;
  if (!payload.has_value() || !details.ParseFromString(std::string(*payload))) {
    return status;  // A refusal of this call only.
  }
  const bool reattestable = config_.node_attestor != "join_token";
  if (details.reason() != Reason::AGENT_BANNED && reattestable) {
    Log(logging::Level::kWarning,
        "the server refused this agent: attesting again",
        {{"spiffe_id", spiffe_id()},
         {"reason", Reason::Reason_Name(details.reason())}});
    absl::Status again = AttestNode();
    if (again.ok()) return status;
  }
  // Banned, or unable to attest again: forget the SVID and stop, as
  // upstream agents exit.
  Log(logging::Level::kError, "the server refused this agent: stopping",
      {{"spiffe_id", spiffe_id()},
       {"reason", Reason::Reason_Name(details.reason())}});
  if (absl::Status s = store_.DeleteSvid(); !s.ok()) {
    Log(logging::Level::kError, "cannot delete the agent SVID",
        {{"error", s.ToString()}});
  }
  absl::MutexLock lock(&mu_);
  banned_ = true;
  return status;
}

absl::Status Agent::SyncOnce() {
  if (absl::Status s = RenewSvidIfDue(nullptr); !s.ok()) {
    return HandleDenied(s);
  }
  std::shared_ptr<grpc::Channel> channel = Channel();
  const std::shared_ptr<const Snapshot> current = Current();
  Snapshot next;
  grpc::Status got = bundle_v1::Bundle::NewStub(channel)->GetBundle(
      Context().get(), bundle_v1::GetBundleRequest(), &next.bundle);
  if (!got.ok()) return HandleDenied(FromGrpc(got));
  const bool bundle_changed =
      next.bundle.SerializeAsString() != current->bundle.SerializeAsString();
  if (bundle_changed && !next.bundle.x509_authorities().empty()) {
    roots_->Set(Roots(next.bundle));
    if (absl::Status s = store_.SaveBundle(Roots(next.bundle)); !s.ok()) {
      return s;
    }
    // An authority tainted by the operator: move the agent's own SVID off
    // it first (workload SVIDs follow in MintSvids).
    if (absl::Status s = RenewSvidIfDue(&next.bundle); !s.ok()) {
      return HandleDenied(s);
    }
    channel = Channel();
  }
  absl::StatusOr<Entries> entries = SyncEntries(channel, current->entries);
  if (!entries.ok()) return HandleDenied(entries.status());
  next.entries = std::move(*entries);
  std::set<std::string> federated;
  for (const auto& [id, entry] : next.entries) {
    for (const std::string& td : entry.federates_with()) {
      federated.insert(std::string(absl::StripPrefix(td, "spiffe://")));
    }
  }
  for (const std::string& td : federated) {
    bundle_v1::GetFederatedBundleRequest request;
    request.set_trust_domain(td);
    spire::api::types::Bundle bundle;
    grpc::Status s = bundle_v1::Bundle::NewStub(channel)->GetFederatedBundle(
        Context().get(), request, &bundle);
    if (s.ok()) {
      next.federated[td] = std::move(bundle);
    } else if (s.error_code() != grpc::StatusCode::NOT_FOUND) {
      return FromGrpc(s);
    }
  }
  for (const auto& [id, svid] : current->svids) {
    if (next.entries.count(id)) next.svids.emplace(id, svid);
  }
  if (absl::Status s = MintSvids(next, bundle_changed); !s.ok()) {
    return HandleDenied(s);
  }
  if (Fingerprint(next) != Fingerprint(*current)) Publish(std::move(next));
  return absl::OkStatus();
}

absl::Status Agent::MintSvids(Snapshot& next, bool roots_changed) {
  const absl::Time now = absl::Now();
  const std::vector<std::string> trusted = UntaintedRoots(next.bundle);
  std::vector<const Entry*> due;
  for (const auto& [id, entry] : next.entries) {
    auto held = next.svids.find(id);
    if (held != next.svids.end() &&
        !PastHalfLife(held->second.not_before, held->second.not_after, now)) {
      std::string chain_pem;
      for (const std::string& der : held->second.chain_der) {
        chain_pem += ca::DerToPem(der, "CERTIFICATE");
      }
      if (!roots_changed || ca::VerifySvidChain(chain_pem, trusted).ok()) {
        continue;
      }
    }
    due.push_back(&entry);
  }
  const std::shared_ptr<grpc::Channel> channel = Channel();
  for (size_t start = 0; start < due.size(); start += kMaxCsrsPerCall) {
    const size_t end = std::min(due.size(), start + kMaxCsrsPerCall);
    svid_v1::BatchNewX509SVIDRequest request;
    std::vector<crypto::PrivateKey> keys;
    for (size_t i = start; i < end; ++i) {
      const Entry& entry = *due[i];
      absl::StatusOr<KeyAndCsr> made = NewKeyAndCsr(
          absl::StrCat("spiffe://", entry.spiffe_id().trust_domain(),
                       entry.spiffe_id().path()));
      if (!made.ok()) return made.status();
      svid_v1::NewX509SVIDParams* params = request.add_params();
      params->set_entry_id(entry.id());
      params->set_csr(made->csr);
      keys.push_back(std::move(made->key));
    }
    svid_v1::BatchNewX509SVIDResponse response;
    grpc::Status status = svid_v1::SVID::NewStub(channel)->BatchNewX509SVID(
        Context().get(), request, &response);
    if (!status.ok()) return FromGrpc(status);
    for (int i = 0;
         i < response.results_size() && i < static_cast<int>(keys.size());
         ++i) {
      const auto& result = response.results(i);
      const Entry& entry = *due[start + i];
      if (result.status().code() != 0 || result.svid().cert_chain().empty()) {
        Log(logging::Level::kWarning, "no SVID for an entry",
            {{"entry_id", entry.id()},
             {"spiffe_id",
              absl::StrCat("spiffe://", entry.spiffe_id().trust_domain(),
                           entry.spiffe_id().path())},
             {"code", absl::StrCat(result.status().code())},
             {"error", result.status().message()}});
        continue;
      }
      absl::StatusOr<std::string> key_der = crypto::MarshalPrivateKey(*keys[i]);
      absl::StatusOr<ca::Validity> validity =
          ca::GetValidity(result.svid().cert_chain(0));
      if (!key_der.ok() || !validity.ok()) continue;
      WorkloadSvid svid;
      svid.entry_id = entry.id();
      svid.spiffe_id =
          absl::StrCat("spiffe://", entry.spiffe_id().trust_domain(),
                       entry.spiffe_id().path());
      svid.key_der = std::move(*key_der);
      svid.chain_der.assign(result.svid().cert_chain().begin(),
                            result.svid().cert_chain().end());
      svid.not_before = validity->not_before;
      svid.not_after = validity->not_after;
      next.svids[entry.id()] = std::move(svid);
    }
  }
  return absl::OkStatus();
}

uint64_t Agent::Subscribe(std::function<void()> changed) {
  absl::MutexLock lock(&subscribers_mu_);
  const uint64_t id = ++next_subscription_;
  subscribers_.emplace(id, std::move(changed));
  return id;
}

void Agent::Unsubscribe(uint64_t subscription) {
  absl::MutexLock lock(&subscribers_mu_);
  subscribers_.erase(subscription);
}

void Agent::Publish(Snapshot next, bool persist) {
  if (absl::Status s = persist ? store_.SaveSnapshot(next) : absl::OkStatus();
      !s.ok()) {
    Log(logging::Level::kWarning, "cannot save the SVID cache",
        {{"error", s.message()}});
  }
  {
    absl::MutexLock lock(&mu_);
    next.generation = snapshot_->generation + 1;
    snapshot_ = std::make_shared<const Snapshot>(std::move(next));
    // Cached JWT-SVIDs go with their entry, and with their signing key once
    // it is tainted or gone from the bundle.
    std::set<std::string> usable_keys;
    for (const auto& key : snapshot_->bundle.jwt_authorities()) {
      if (!key.tainted()) usable_keys.insert(key.key_id());
    }
    for (auto it = jwt_cache_.begin(); it != jwt_cache_.end();) {
      const std::string entry_id = it->first.substr(0, it->first.find('\n'));
      if (!snapshot_->entries.count(entry_id) ||
          !usable_keys.count(it->second.key_id)) {
        jwt_cache_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  absl::MutexLock lock(&subscribers_mu_);
  for (const auto& [id, changed] : subscribers_) changed();
}

absl::StatusOr<JwtSvid> Agent::FetchJwtSvid(
    const Entry& entry, const std::vector<std::string>& audiences) {
  std::vector<std::string> sorted = audiences;
  std::sort(sorted.begin(), sorted.end());
  const std::string cache_key =
      absl::StrCat(entry.id(), "\n", absl::StrJoin(sorted, "\n"));
  const absl::Time now = absl::Now();
  {
    absl::MutexLock lock(&mu_);
    auto cached = jwt_cache_.find(cache_key);
    if (cached != jwt_cache_.end() &&
        !PastHalfLife(cached->second.issued_at, cached->second.expires_at,
                      now)) {
      return cached->second;
    }
  }
  svid_v1::NewJWTSVIDRequest request;
  request.set_entry_id(entry.id());
  for (const std::string& audience : audiences) request.add_audience(audience);
  svid_v1::NewJWTSVIDResponse response;
  grpc::Status status = svid_v1::SVID::NewStub(Channel())->NewJWTSVID(
      Context().get(), request, &response);
  if (!status.ok()) return HandleDenied(FromGrpc(status));
  const auto& svid = response.svid();
  if (svid.token().empty() || svid.expires_at() == 0 ||
      svid.issued_at() > svid.expires_at()) {
    return absl::InternalError("the server's JWT-SVID is malformed");
  }
  JwtSvid out{absl::StrCat("spiffe://", entry.spiffe_id().trust_domain(),
                           entry.spiffe_id().path()),
              svid.token(), KeyIdOf(svid.token()),
              absl::FromUnixSeconds(svid.issued_at()),
              absl::FromUnixSeconds(svid.expires_at())};
  absl::MutexLock lock(&mu_);
  jwt_cache_[cache_key] = out;
  return out;
}

absl::StatusOr<std::vector<SovereignSvid>> Agent::MintSovereignSvids(
    const std::vector<const Entry*>& entries,
    const spire::api::types::SovereignAttestation& given) {
  const bool gather = given.tpm_signed_attestation().empty();
  if (gather && config_.node_attestor != "unified_identity") {
    return absl::FailedPreconditionError(
        "this agent has no TPM evidence to give: send sovereign evidence, or "
        "run the agent with the unified_identity node attestor");
  }
  const std::shared_ptr<grpc::Channel> channel = Channel();
  svid_v1::BatchNewX509SVIDRequest request;
  std::vector<crypto::PrivateKey> keys;
  std::vector<const Entry*> asked;
  for (const Entry* entry : entries) {
    spire::api::types::SovereignAttestation evidence = given;
    if (gather) {
      // A fresh server nonce per SVID: RenewAgent without evidence answers
      // a sovereign agent with one.
      agent_v1::RenewAgentRequest ask;
      ask.mutable_params();
      agent_v1::RenewAgentResponse nonce;
      grpc::Status s = agent_v1::Agent::NewStub(channel)->RenewAgent(
          Context().get(), ask, &nonce);
      if (!s.ok()) return FromGrpc(s);
      if (nonce.challenge_nonce().empty()) {
        return absl::FailedPreconditionError(
            "the server gave no nonce: is this agent sovereign?");
      }
      absl::StatusOr<std::string> made =
          attestor_->Answer(nonce.challenge_nonce());
      if (!made.ok()) return made.status();
      if (!evidence.ParseFromString(*made)) {
        return absl::InternalError("the TPM's evidence does not parse");
      }
      evidence.set_workload_code_hash(given.workload_code_hash());
    }
    const std::string id =
        absl::StrCat("spiffe://", entry->spiffe_id().trust_domain(),
                     entry->spiffe_id().path());
    absl::StatusOr<KeyAndCsr> made = NewKeyAndCsr(id);
    if (!made.ok()) return made.status();
    svid_v1::NewX509SVIDParams* params = request.add_params();
    params->set_entry_id(entry->id());
    params->set_csr(made->csr);
    *params->mutable_sovereign_attestation() = std::move(evidence);
    keys.push_back(std::move(made->key));
    asked.push_back(entry);
    if (!gather) break;  // The workload's nonce serves one SVID.
  }
  svid_v1::BatchNewX509SVIDResponse response;
  grpc::Status status = svid_v1::SVID::NewStub(channel)->BatchNewX509SVID(
      Context().get(), request, &response);
  if (!status.ok()) return HandleDenied(FromGrpc(status));
  std::vector<SovereignSvid> out;
  for (int i = 0;
       i < response.results_size() && i < static_cast<int>(keys.size()); ++i) {
    const auto& result = response.results(i);
    if (result.status().code() != 0) {
      return absl::Status(static_cast<absl::StatusCode>(result.status().code()),
                          result.status().message());
    }
    absl::StatusOr<std::string> key_der = crypto::MarshalPrivateKey(*keys[i]);
    if (!key_der.ok()) return key_der.status();
    absl::StatusOr<ca::Validity> validity =
        ca::GetValidity(result.svid().cert_chain(0));
    if (!validity.ok()) return validity.status();
    SovereignSvid svid;
    svid.svid.entry_id = asked[i]->id();
    svid.svid.spiffe_id =
        absl::StrCat("spiffe://", asked[i]->spiffe_id().trust_domain(),
                     asked[i]->spiffe_id().path());
    svid.svid.key_der = std::move(*key_der);
    svid.svid.chain_der.assign(result.svid().cert_chain().begin(),
                               result.svid().cert_chain().end());
    svid.svid.not_before = validity->not_before;
    svid.svid.not_after = validity->not_after;
    if (!result.attested_claims().empty()) {
      svid.claims = result.attested_claims(0);
    }
    out.push_back(std::move(svid));
  }
  return out;
}

void Agent::Loop() {
  for (;;) {
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(&stopping_), config_.sync_interval);
      if (stopping_ || banned_) return;
    }
    if (absl::Status s = SyncOnce(); !s.ok()) {
      Log(logging::Level::kWarning, "sync failed",
          {{"spiffe_id", spiffe_id()}, {"error", s.ToString()}});
    }
  }
}

}  // namespace trellis::agent
