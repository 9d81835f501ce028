#include "identity/agent_manager.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "crypto/random.h"
#include "spiffe/id.h"

namespace trellis::identity {
namespace {

using Reason = spire::api::types::PermissionDeniedDetails;
using spire::api::types::SovereignAttestation;

constexpr char kJoinTokenType[] = "join_token";

}  // namespace

absl::Status PermissionDenied(
    spire::api::types::PermissionDeniedDetails::Reason reason,
    absl::string_view message) {
  absl::Status status = absl::PermissionDeniedError(message);
  spire::api::types::PermissionDeniedDetails details;
  details.set_reason(reason);
  status.SetPayload(kPermissionDeniedDetailsUrl,
                    absl::Cord(details.SerializeAsString()));
  return status;
}

AgentManager::AgentManager(storage::IdentityStorage* storage, ca::CaManager* ca,
                           EntryManager* entries, SvidIssuer* issuer,
                           SovereignAttestor* sovereign,
                           const attest::spire_tpm::NodeVerifier* tpm,
                           Clock clock)
    : storage_(storage),
      entries_(entries),
      issuer_(issuer),
      sovereign_(sovereign),
      tpm_(tpm),
      clock_(std::move(clock)),
      trust_domain_(ca->options().trust_domain) {}

absl::StatusOr<trellis::JoinTokenRecord> AgentManager::CreateJoinToken(
    int32_t ttl_seconds, std::string token, const std::string& agent_id) {
  if (ttl_seconds < 1) {
    return absl::InvalidArgumentError("ttl is required, you must provide one");
  }
  if (token.empty()) token = crypto::RandomUuid();
  const std::string agent_path =
      absl::StrCat("/spire/agent/", kJoinTokenType, "/", token);
  if (absl::Status s = spiffe::ValidatePath(agent_path); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("token cannot be part of an agent ID: ", s.message()));
  }
  if (!agent_id.empty()) {
    absl::StatusOr<spiffe::SpiffeId> alias = spiffe::ParseSpiffeId(agent_id);
    if (!alias.ok()) return alias.status();
    if (alias->trust_domain != trust_domain_) {
      return absl::InvalidArgumentError(
          "agent_id is not a member of the server's trust domain");
    }
  }
  trellis::JoinTokenRecord record;
  record.set_token(token);
  record.set_expires_at(absl::ToUnixSeconds(clock_()) + ttl_seconds);
  if (absl::Status s = storage_->PutJoinToken(record); !s.ok()) return s;
  if (!agent_id.empty()) {
    Entry alias;
    absl::StatusOr<spiffe::SpiffeId> parent =
        spiffe::MakeSpiffeId(trust_domain_, agent_path);
    absl::StatusOr<spiffe::SpiffeId> child = spiffe::ParseSpiffeId(agent_id);
    alias.mutable_parent_id()->set_trust_domain(parent->trust_domain);
    alias.mutable_parent_id()->set_path(parent->path);
    alias.mutable_spiffe_id()->set_trust_domain(child->trust_domain);
    alias.mutable_spiffe_id()->set_path(child->path);
    Selector* selector = alias.add_selectors();
    selector->set_type("spiffe_id");
    selector->set_value(parent->ToString());
    std::vector<absl::StatusOr<Entry>> created =
        entries_->Create({std::move(alias)});
    if (!created[0].ok()) return created[0].status();
  }
  return record;
}

absl::StatusOr<IssuedX509> AgentManager::Sign(
    const std::string& spiffe_id, const std::string& attestation_type,
    const std::string& csr_der, const SovereignAttestation* sovereign,
    const std::string& host_id) {
  if (csr_der.empty()) return absl::InvalidArgumentError("missing CSR");
  absl::StatusOr<ca::CertificateRequest> csr =
      ca::ParseCsr(csr_der, /*check_signature=*/true);
  if (!csr.ok()) return csr.status();
  X509Issue request;
  request.spiffe_id = spiffe_id;
  request.public_key_der = csr->public_key_der;
  request.ttl = absl::ZeroDuration();
  request.context.kind = trellis::IssuanceRecord::AGENT_X509_SVID;
  request.context.agent_id = spiffe_id;
  request.context.attestation_type = attestation_type;
  if (sovereign != nullptr) {
    absl::StatusOr<SovereignVerdict> verdict = sovereign_->Appraise(
        *sovereign, host_id, spiffe_id, csr->public_key_der);
    if (!verdict.ok()) return verdict.status();
    ApplyVerdict(*verdict, request);
  }
  return std::move(issuer_->IssueX509({std::move(request)})[0]);
}

absl::Status AgentManager::RefuseBanned(const std::string& spiffe_id) {
  absl::StatusOr<std::optional<trellis::AttestedAgent>> held =
      storage_->GetAgent(spiffe_id);
  if (!held.ok()) return held.status();
  if (held->has_value() && (*held)->cert_serial_number().empty()) {
    return absl::PermissionDeniedError("failed to attest: agent is banned");
  }
  return absl::OkStatus();
}

absl::Status AgentManager::StoreAttested(trellis::AttestedAgent agent,
                                         const IssuedX509& svid) {
  absl::StatusOr<std::string> serial =
      ca::SerialNumber(svid.cert_chain.front());
  if (!serial.ok()) return serial.status();
  agent.set_cert_serial_number(*serial);
  agent.set_cert_not_after(svid.expires_at);
  return storage_->PutAgent(agent);
}

absl::StatusOr<std::string> AgentManager::SovereignChallenge(
    const std::string& host_id) {
  if (!sovereign_enabled()) {
    return absl::FailedPreconditionError(
        "sovereign attestation needs the Unified-Identity feature flag");
  }
  return sovereign_->Challenge(host_id);
}

absl::StatusOr<IssuedX509> AgentManager::AttestJoinToken(
    const std::string& token, const std::string& csr_der,
    const SovereignAttestation* sovereign) {
  if (token.empty()) {
    return absl::InvalidArgumentError("missing join token");
  }
  if (csr_der.empty()) return absl::InvalidArgumentError("missing CSR");
  absl::StatusOr<std::string> host_id = EvidenceHost(sovereign);
  if (!host_id.ok()) return host_id.status();
  absl::StatusOr<std::optional<trellis::JoinTokenRecord>> record =
      storage_->TakeJoinToken(token);
  if (!record.ok()) return record.status();
  if (!record->has_value()) {
    return absl::InvalidArgumentError(
        "failed to attest: join token does not exist or has already been "
        "used");
  }
  if ((*record)->expires_at() < absl::ToUnixSeconds(clock_())) {
    return absl::InvalidArgumentError("join token expired");
  }
  absl::StatusOr<spiffe::SpiffeId> id = spiffe::MakeSpiffeId(
      trust_domain_, absl::StrCat("/spire/agent/", kJoinTokenType, "/", token));
  if (!id.ok()) return id.status();
  trellis::AttestedAgent agent;
  agent.set_spiffe_id(id->ToString());
  agent.set_attestation_type(kJoinTokenType);
  agent.set_can_reattest(false);
  agent.set_host_id(*host_id);

  return Enroll(std::move(agent), csr_der, sovereign);
}

absl::StatusOr<std::string> AgentManager::EvidenceHost(
    const SovereignAttestation*& sovereign) const {
  if (!sovereign_enabled()) sovereign = nullptr;  // Ignored without the flag.
  if (sovereign == nullptr) return std::string();
  return SovereignAttestor::HostOf(*sovereign, "");
}

absl::StatusOr<attest::spire_tpm::NodeVerifier::Pending> AgentManager::BeginTpm(
    absl::string_view payload) {
  if (tpm_ == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("could not find node attestor type \"",
                     attest::spire_tpm::kAttestorName, "\""));
  }
  return tpm_->Challenge(payload);
}

absl::StatusOr<IssuedX509> AgentManager::AttestTpm(
    const attest::spire_tpm::NodeVerifier::Pending& pending,
    absl::string_view answer, const std::string& csr_der,
    const SovereignAttestation* sovereign) {
  if (csr_der.empty()) return absl::InvalidArgumentError("missing CSR");
  if (absl::Status s =
          attest::spire_tpm::NodeVerifier::CheckResponse(pending, answer);
      !s.ok()) {
    return s;
  }
  absl::StatusOr<std::string> host_id = EvidenceHost(sovereign);
  if (!host_id.ok()) return host_id.status();
  absl::StatusOr<spiffe::SpiffeId> id = spiffe::MakeSpiffeId(
      trust_domain_,
      absl::StrCat("/spire/agent/", attest::spire_tpm::kAttestorName, "/",
                   pending.ek_hash));
  if (!id.ok()) return id.status();
  trellis::AttestedAgent agent;
  agent.set_spiffe_id(id->ToString());
  agent.set_attestation_type(attest::spire_tpm::kAttestorName);
  agent.set_can_reattest(true);
  agent.set_host_id(*host_id);
  Selector* selector = agent.add_selectors();
  selector->set_type(attest::spire_tpm::kAttestorName);
  selector->set_value(absl::StrCat("pub_hash:", pending.ek_hash));

  return Enroll(std::move(agent), csr_der, sovereign);
}

absl::StatusOr<IssuedX509> AgentManager::AttestSovereign(
    const std::string& host_id, const std::string& csr_der,
    const SovereignAttestation& sovereign) {
  if (!sovereign_enabled()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "could not find node attestor type \"", kUnifiedIdentityType, "\""));
  }
  // The host the agent names; the evidence must be that host's.
  absl::StatusOr<std::string> host =
      host_id.empty() ? SovereignAttestor::HostOf(sovereign, "")
                      : absl::StatusOr<std::string>(host_id);
  if (!host.ok()) return host.status();
  const std::string path =
      absl::StrCat("/spire/agent/", kUnifiedIdentityType, "/", *host);
  if (absl::Status s = spiffe::ValidatePath(path); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("host id cannot be part of an agent ID: ", s.message()));
  }
  absl::StatusOr<spiffe::SpiffeId> id =
      spiffe::MakeSpiffeId(trust_domain_, path);
  if (!id.ok()) return id.status();
  trellis::AttestedAgent agent;
  agent.set_spiffe_id(id->ToString());
  agent.set_attestation_type(kUnifiedIdentityType);
  agent.set_can_reattest(true);
  agent.set_host_id(*host);

  return Enroll(std::move(agent), csr_der, &sovereign);
}

absl::StatusOr<IssuedX509> AgentManager::Enroll(
    trellis::AttestedAgent agent, const std::string& csr_der,
    const SovereignAttestation* sovereign) {
  {
    absl::MutexLock lock(&mu_);
    if (absl::Status s = RefuseBanned(agent.spiffe_id()); !s.ok()) return s;
  }
  // Appraisal and signing take long: other agents' calls go on meanwhile.
  absl::StatusOr<IssuedX509> svid =
      Sign(agent.spiffe_id(), agent.attestation_type(), csr_der, sovereign,
           agent.host_id());
  if (!svid.ok()) return svid.status();
  if (svid->attested_claims.has_value()) {
    // The evidence's facts as node selectors (for node-alias entries).
    for (const auto& [name, value] :
         {std::pair<std::string, std::string>{"host_id", agent.host_id()},
          {"host_integrity",
           absl::AsciiStrToLower(
               spire::api::types::AttestedClaims::HostIntegrity_Name(
                   svid->attested_claims->host_integrity_status()))}}) {
      Selector* selector = agent.add_selectors();
      selector->set_type(kUnifiedIdentityType);
      selector->set_value(absl::StrCat(name, ":", value));
    }
  }
  absl::MutexLock lock(&mu_);
  // A ban may have come while the SVID was made.
  if (absl::Status s = RefuseBanned(agent.spiffe_id()); !s.ok()) return s;
  if (absl::Status s = StoreAttested(std::move(agent), *svid); !s.ok()) {
    return s;
  }
  return svid;
}

absl::StatusOr<trellis::AttestedAgent> AgentManager::Authorize(
    const ca::VerifiedSvid& caller) {
  if (caller.not_after < clock_()) {
    return PermissionDenied(Reason::AGENT_EXPIRED, "agent SVID has expired");
  }
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::optional<trellis::AttestedAgent>> held =
      storage_->GetAgent(caller.spiffe_id);
  if (!held.ok()) return held.status();
  if (!held->has_value()) {
    return PermissionDenied(Reason::AGENT_NOT_ATTESTED,
                            "agent is not attested");
  }
  trellis::AttestedAgent agent = std::move(**held);
  if (agent.cert_serial_number().empty()) {
    return PermissionDenied(Reason::AGENT_BANNED, "agent is banned");
  }
  if (agent.cert_serial_number() == caller.serial_number) return agent;
  if (!agent.new_cert_serial_number().empty() &&
      agent.new_cert_serial_number() == caller.serial_number) {
    agent.set_cert_serial_number(agent.new_cert_serial_number());
    agent.set_cert_not_after(agent.new_cert_not_after());
    agent.clear_new_cert_serial_number();
    agent.clear_new_cert_not_after();
    if (absl::Status s = storage_->PutAgent(agent); !s.ok()) return s;
    return agent;
  }
  return PermissionDenied(Reason::AGENT_NOT_ACTIVE, "agent SVID is not active");
}

absl::StatusOr<AgentManager::Renewal> AgentManager::Renew(
    const trellis::AttestedAgent& agent, const std::string& csr_der,
    const SovereignAttestation* sovereign) {
  // Agents attested with sovereign evidence renew with fresh evidence.
  const bool needs_evidence = sovereign_enabled() && !agent.host_id().empty();
  if (!needs_evidence) sovereign = nullptr;
  if (needs_evidence && sovereign == nullptr) {
    absl::StatusOr<std::string> nonce = sovereign_->Challenge(agent.host_id());
    if (!nonce.ok()) return nonce.status();
    return Renewal{std::nullopt, std::move(*nonce)};
  }
  if (agent.can_reattest() && !needs_evidence) {
    return PermissionDenied(Reason::AGENT_MUST_REATTEST,
                            "agent must re-attest to renew its SVID");
  }
  if (csr_der.empty()) return absl::InvalidArgumentError("missing CSR");
  absl::StatusOr<IssuedX509> svid =
      Sign(agent.spiffe_id(), agent.attestation_type(), csr_der, sovereign,
           agent.host_id());
  if (!svid.ok()) return svid.status();
  absl::StatusOr<std::string> serial =
      ca::SerialNumber(svid->cert_chain.front());
  if (!serial.ok()) return serial.status();
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::optional<trellis::AttestedAgent>> held =
      storage_->GetAgent(agent.spiffe_id());
  if (!held.ok()) return held.status();
  if (!held->has_value()) {
    return PermissionDenied(Reason::AGENT_NOT_ATTESTED,
                            "agent is not attested");
  }
  (*held)->set_new_cert_serial_number(*serial);
  (*held)->set_new_cert_not_after(svid->expires_at);
  if (absl::Status s = storage_->PutAgent(**held); !s.ok()) return s;
  return Renewal{std::move(*svid), ""};
}

absl::Status AgentManager::Ban(const std::string& spiffe_id) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::optional<trellis::AttestedAgent>> held =
      storage_->GetAgent(spiffe_id);
  if (!held.ok()) return held.status();
  if (!held->has_value()) return absl::NotFoundError("agent not found");
  (*held)->clear_cert_serial_number();
  (*held)->clear_new_cert_serial_number();
  return storage_->PutAgent(**held);
}

absl::Status AgentManager::Delete(const std::string& spiffe_id) {
  absl::MutexLock lock(&mu_);
  return storage_->DeleteAgent(spiffe_id);
}

absl::StatusOr<trellis::AttestedAgent> AgentManager::Get(
    const std::string& spiffe_id) {
  absl::StatusOr<std::optional<trellis::AttestedAgent>> held =
      storage_->GetAgent(spiffe_id);
  if (!held.ok()) return held.status();
  if (!held->has_value()) return absl::NotFoundError("agent not found");
  return **held;
}

absl::StatusOr<std::vector<trellis::AttestedAgent>> AgentManager::List() {
  return storage_->ListAgents();
}

}  // namespace trellis::identity
