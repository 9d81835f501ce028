#include "identity/sovereign_attestor.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attest/verifier/evidence_request.h"
#include "crypto/keys.h"
#include "nlohmann/json.hpp"
#include "util/json_fields.h"

namespace trellis::identity {
namespace {

using nlohmann::json;
using spire::api::types::AttestedClaims;
using spire::api::types::SovereignAttestation;

// Longest host id accepted (registrar ids are UUIDs or short names).
constexpr size_t kMaxHostIdBytes = 256;

bool IsHex(absl::string_view text) {
  if (text.empty() || text.size() % 2 != 0) return false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The certificate bytes as the verifier takes them: base64 text. Agents
// send either that text (the fork's Go code converts the string) or the raw
// bytes.
std::string CertificateText(const std::string& bytes) {
  std::string decoded;
  if (absl::Base64Unescape(bytes, &decoded)) return bytes;
  return absl::Base64Escape(bytes);
}

AttestedClaims::HostIntegrity IntegrityOf(const std::string& name) {
  if (name == "PASSED_ALL_CHECKS") return AttestedClaims::PASSED_ALL_CHECKS;
  if (name == "PARTIAL") return AttestedClaims::PARTIAL;
  if (name == "FAILED") return AttestedClaims::FAILED;
  return AttestedClaims::HOST_INTEGRITY_UNSPECIFIED;
}

// The phase-1 AttestedClaims from the verifier's claims JSON.
AttestedClaims ResponseClaims(const attest::Verdict& verdict) {
  AttestedClaims claims;
  claims.set_host_integrity_status(IntegrityOf(verdict.host_integrity_status));
  const json& attested = verdict.attested_claims;
  if (const json* where = json_fields::Find(attested, "geolocation");
      where != nullptr && where->is_string()) {
    claims.set_geolocation(where->get<std::string>());
  }
  if (const json* gpu = json_fields::Find(attested, "gpu_metrics_health");
      gpu != nullptr && gpu->is_object()) {
    AttestedClaims::GpuMetrics* metrics = claims.mutable_gpu_metrics_health();
    metrics->set_status(gpu->value("status", ""));
    metrics->set_utilization_pct(gpu->value("utilization_pct", 0.0));
    metrics->set_memory_mb(gpu->value("memory_mb", int64_t{0}));
  }
  return claims;
}

// The claims document of the certificate extension ("grc.*" keys as the
// Unified-Identity server writes them).
std::string ClaimsDocument(const SovereignAttestation& attestation,
                           const attest::EvidenceRequest& evidence,
                           const attest::Verdict& verdict,
                           const std::string& spiffe_id,
                           bool app_key_is_svid_key,
                           const std::string& svid_public_key_der) {
  json workload = {
      {"workload-id", spiffe_id},
      {"key-source", app_key_is_svid_key ? "tpm-app-key" : "workload-key"}};
  if (!app_key_is_svid_key) {
    workload["public-key"] = absl::Base64Escape(svid_public_key_der);
  }
  if (!attestation.workload_code_hash().empty()) {
    workload["workload-code-hash"] = attestation.workload_code_hash();
  }
  json document = {{"grc.workload", std::move(workload)},
                   {"grc.tpm-attestation",
                    {{"app-key-public", evidence.app_key_public},
                     {"app-key-certificate", evidence.app_key_certificate},
                     {"quote", evidence.quote},
                     {"challenge-nonce", evidence.nonce}}}};
  if (const json* where =
          json_fields::Find(verdict.attested_claims, "geolocation_details");
      where != nullptr && where->is_object()) {
    document["grc.geolocation"] = {
        {"physical-location",
         {{"format", "precise"},
          {"precise",
           {{"latitude", where->value("latitude", 0.0)},
            {"longitude", where->value("longitude", 0.0)}}}}},
        {"jurisdiction", {{"country", where->value("country", "")}}},
        {"tpm-attested-location", where->value("tpm_attested", false)},
        {"tpm-attested-pcr-index", where->value("tpm_attested_pcr_index", 0)}};
  }
  return document.dump();
}

}  // namespace

void ApplyVerdict(const SovereignVerdict& verdict, X509Issue& issue) {
  issue.extensions.insert(issue.extensions.end(), verdict.extensions.begin(),
                          verdict.extensions.end());
  issue.context.attestation_audit_id = verdict.audit_id;
  issue.context.attestation_log_id = verdict.audit_log_id;
  issue.context.attestation_verifier = verdict.verifier_url;
  issue.attested_claims = verdict.claims;
}

SovereignAttestor::SovereignAttestor(SovereignOptions options,
                                     EvidenceVerifier* verifier)
    : options_(std::move(options)), verifier_(verifier) {}

absl::StatusOr<std::string> SovereignAttestor::HostOf(
    const SovereignAttestation& attestation, const std::string& fallback) {
  const std::string& host = attestation.keylime_agent_uuid().empty()
                                ? fallback
                                : attestation.keylime_agent_uuid();
  if (host.empty()) {
    return absl::InvalidArgumentError(
        "sovereign attestation names no host: set keylime_agent_uuid");
  }
  if (host.size() > kMaxHostIdBytes) {
    return absl::InvalidArgumentError("host id is too long");
  }
  return host;
}

absl::StatusOr<std::string> SovereignAttestor::Challenge(
    const std::string& host_id) {
  if (!enabled()) {
    return absl::FailedPreconditionError(
        "sovereign attestation needs the Unified-Identity feature flag");
  }
  if (host_id.empty() || host_id.size() > kMaxHostIdBytes) {
    return absl::InvalidArgumentError("missing or overlong host id");
  }
  return verifier_->IssueNonce(host_id);
}

absl::StatusOr<SovereignVerdict> SovereignAttestor::Appraise(
    const SovereignAttestation& attestation, const std::string& host_id,
    const std::string& spiffe_id, const std::string& svid_public_key_der) {
  if (!enabled()) {
    return absl::FailedPreconditionError(
        "sovereign attestation needs the Unified-Identity feature flag");
  }
  if (!attestation.keylime_agent_uuid().empty() &&
      attestation.keylime_agent_uuid() != host_id) {
    return absl::PermissionDeniedError(
        "keylime_agent_uuid names another host than the one attesting");
  }
  if (attestation.tpm_signed_attestation().empty()) {
    return absl::InvalidArgumentError(
        "sovereign attestation without tpm_signed_attestation (the quote)");
  }
  if (attestation.app_key_public().empty()) {
    return absl::InvalidArgumentError(
        "sovereign attestation without app_key_public");
  }
  if (!IsHex(attestation.challenge_nonce())) {
    return absl::InvalidArgumentError(
        "challenge_nonce must be the server's nonce in hex");
  }
  absl::StatusOr<std::string> ak = verifier_->HostAk(host_id);
  if (!ak.ok()) return ak.status();

  // Through the verifier's own request parser: the same field rules and
  // limits as its HTTP API.
  json body = {
      {"type", "tpm-app-key"},
      {"data",
       {{"nonce", absl::AsciiStrToLower(attestation.challenge_nonce())},
        {"quote", attestation.tpm_signed_attestation()},
        {"hash_alg", "sha256"},
        {"app_key_public", attestation.app_key_public()},
        {"app_key_certificate",
         CertificateText(attestation.app_key_certificate())},
        {"tpm_ak", absl::Base64Escape(*ak)},
        {"tpm_ek", ""}}},
      {"metadata",
       {{"source", "trellis SPIRE server"},
        {"submission_type", "PoR/tpm-app-key"},
        {"audit_id", ""}}}};
  absl::StatusOr<attest::EvidenceRequest> evidence =
      attest::ParseEvidenceRequest(body);
  if (!evidence.ok()) return evidence.status();
  absl::StatusOr<attest::Verdict> verdict =
      verifier_->Appraise(*evidence, body);
  if (!verdict.ok()) return verdict.status();
  if (!verdict->verified) {
    std::vector<std::string> failed;
    for (const attest::CheckResult& check : verdict->checks.results()) {
      if (!check.passed) {
        failed.push_back(
            check.detail.empty()
                ? check.name
                : absl::StrCat(check.name, " (", check.detail, ")"));
      }
    }
    return absl::PermissionDeniedError(absl::StrCat(
        "sovereign attestation failed: ", absl::StrJoin(failed, "; "),
        verdict->audit_id.empty()
            ? ""
            : absl::StrCat("; audit id ", verdict->audit_id)));
  }

  SovereignVerdict result;
  result.host_id = host_id;
  result.claims = ResponseClaims(*verdict);
  result.audit_id = verdict->audit_id;
  result.audit_log_id = verdict->audit_log_id;
  result.verifier_url = verifier_->remote_url();
  if (!options_.claims_oid.empty()) {
    absl::StatusOr<crypto::PrivateKey> app_key =
        crypto::ParsePublicKey(attestation.app_key_public());
    absl::StatusOr<std::string> app_key_der =
        app_key.ok() ? crypto::MarshalPublicKey(**app_key)
                     : absl::StatusOr<std::string>(app_key.status());
    const bool app_key_is_svid_key =
        app_key_der.ok() && *app_key_der == svid_public_key_der;
    result.extensions.push_back(ca::RawExtension{
        options_.claims_oid,
        ClaimsDocument(attestation, *evidence, *verdict, spiffe_id,
                       app_key_is_svid_key, svid_public_key_der)});
  }
  return result;
}

}  // namespace trellis::identity
