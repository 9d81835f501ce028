#include "gta/attestation_service.h"

#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/digest.h"
#include "crypto/random.h"
#include "gta/policy_evaluation.h"
#include "gta/tpm_evidence.h"
#include "util/json_fields.h"

namespace trellis::gta {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr size_t kMaxMeasurements = 64;
constexpr size_t kMaxEvidences = 8;
constexpr char kEarProfile[] = "tag:github.com,2023:veraison/ear";

absl::Status Invalid(absl::string_view what) {
  return absl::InvalidArgumentError(std::string(what));
}

// EAR's status for an attester type's attestation_status.
const char* EarStatus(const std::string& status) {
  if (status == "pass") return "affirming";
  if (status == "fail") return "contraindicated";
  return "none";
}

// policy_ids of an evidence item (or, failing that, of its measurement).
absl::StatusOr<std::vector<std::string>> PolicyIds(const json& item,
                                                   const json& measurement) {
  const json* ids = json_fields::Find(item, "policy_ids");
  if (ids == nullptr) ids = json_fields::Find(measurement, "policy_ids");
  std::vector<std::string> out;
  if (ids == nullptr) return out;
  if (!ids->is_array() || ids->size() > kMaxIdsPerRequest) {
    return Invalid("policy_ids must be a list of at most 10 ids");
  }
  for (const json& id : *ids) {
    if (!id.is_string() || id.get<std::string>().empty() ||
        id.get<std::string>().size() > kMaxIdLength) {
      return Invalid("each policy id must be 1 to 36 characters");
    }
    out.push_back(id.get<std::string>());
  }
  return out;
}

}  // namespace

absl::StatusOr<std::unique_ptr<AttestationService>> AttestationService::Create(
    NonceService* nonces, CertManager* certs, PolicyManager* policies,
    RefValueManager* ref_values, TokenIssuer* tokens, ChangeLog* changes) {
  auto service = std::unique_ptr<AttestationService>(new AttestationService(
      nonces, certs, policies, ref_values, tokens, changes));
  for (const char* type : {kTpmBoot, kTpmIma}) {
    absl::StatusOr<std::string> text = ExportPolicyText(type);
    if (!text.ok()) return text.status();
    absl::StatusOr<std::unique_ptr<policy::RegoPolicy>> compiled =
        policy::RegoPolicy::Compile({{absl::StrCat("export/", type), *text}});
    if (!compiled.ok()) return compiled.status();
    service->export_policies_[type] = std::move(*compiled);
  }
  return service;
}

absl::StatusOr<std::vector<IssuedToken>> AttestationService::Attest(
    const std::string& user_id, const std::string& request_text) {
  if (absl::Status s = ValidateUserId(user_id); !s.ok()) return s;
  if (json_fields::TooDeep(request_text)) {
    return Invalid("the body nests too deeply");
  }
  const json request = json::parse(request_text, nullptr, false);
  // The same body with its members in the order sent, for what the quote
  // binds.
  const ordered_json ordered =
      ordered_json::parse(request_text, nullptr, false);
  if (!request.is_object() || !ordered.is_object()) {
    return Invalid("the body must be a JSON object");
  }
  if (const json* version = json_fields::Find(request, "agent_version")) {
    if (!version->is_string() || version->get<std::string>().empty() ||
        version->get<std::string>().size() > 50) {
      return Invalid("agent_version must be 1 to 50 characters");
    }
  }
  absl::StatusOr<std::optional<std::string>> nonce_type_field =
      json_fields::OptionalString(request, "nonce_type");
  if (!nonce_type_field.ok()) return nonce_type_field.status();
  const std::string nonce_type = nonce_type_field->value_or("verifier");
  if (nonce_type != "verifier" && nonce_type != "user" &&
      nonce_type != "ignore") {
    return Invalid("nonce_type must be ignore, user or verifier");
  }
  absl::StatusOr<std::optional<std::string>> token_fmt_field =
      json_fields::OptionalString(request, "token_fmt");
  if (!token_fmt_field.ok()) return token_fmt_field.status();
  const std::string token_fmt = token_fmt_field->value_or("eat");
  if (token_fmt != "eat" && token_fmt != "ear") {
    return Invalid("token_fmt must be eat or ear");
  }
  std::optional<std::string> user_nonce;
  std::string user_nonce_text;
  if (nonce_type == "user") {
    absl::StatusOr<std::string> text =
        json_fields::String(request, "user_nonce");
    if (!text.ok())
      return Invalid("user_nonce is required with nonce_type user");
    std::string bytes;
    if (!absl::Base64Unescape(*text, &bytes) || bytes.empty() ||
        bytes.size() > 1024) {
      return Invalid("user_nonce must be base64 of 1 to 1024 bytes");
    }
    user_nonce = std::move(bytes);
    user_nonce_text = *text;
  }
  const json* measurements = json_fields::Find(request, "measurements");
  if (measurements == nullptr || !measurements->is_array() ||
      measurements->empty() || measurements->size() > kMaxMeasurements) {
    return Invalid("measurements must hold 1 to 64 measurements");
  }

  std::vector<IssuedToken> issued;
  for (size_t m = 0; m < measurements->size(); ++m) {
    const json& measurement = (*measurements)[m];
    const ordered_json& ordered_measurement = ordered["measurements"][m];
    absl::StatusOr<std::string> node_id =
        json_fields::String(measurement, "node_id");
    if (!node_id.ok() || node_id->size() > 255) {
      return Invalid("node_id must be 1 to 255 characters");
    }
    // The nonce bytes the quote binds.
    std::optional<std::string> nonce_bytes = user_nonce;
    std::string eat_nonce = user_nonce_text;
    if (nonce_type == "verifier") {
      const auto nonce = ordered_measurement.find("nonce");
      if (nonce == ordered_measurement.end() || nonce->is_null()) {
        return Invalid("nonce is required with nonce_type verifier");
      }
      std::string text;
      if (nonce->is_string()) {
        if (!absl::Base64Unescape(nonce->get<std::string>(), &text)) {
          return Invalid("Invalid nonce.");
        }
      } else {
        text = nonce->dump();
      }
      if (absl::Status s = nonces_->Consume(text); !s.ok()) return s;
      const json parsed = json::parse(text, nullptr, false);
      eat_nonce = parsed.is_object() ? parsed.value("value", "") : "";
      nonce_bytes = std::move(text);
    }
    const auto attester_data = ordered_measurement.find("attester_data");
    std::optional<json> attester_data_json;
    std::string attester_data_text;
    if (attester_data != ordered_measurement.end() &&
        !attester_data->is_null()) {
      attester_data_text = attester_data->dump();
      attester_data_json = json::parse(attester_data_text);
    }
    const json* evidences = json_fields::Find(measurement, "evidences");
    if (evidences == nullptr || !evidences->is_array() || evidences->empty() ||
        evidences->size() > kMaxEvidences) {
      return Invalid("evidences must hold 1 to 8 evidences");
    }

    json claims = {
        {"nonce_type", nonce_type}, {"intuse", "Generic"}, {"ueid", *node_id}};
    if (!eat_nonce.empty()) claims["eat_nonce"] = eat_nonce;
    if (attester_data_json) claims["attester_data"] = *attester_data_json;
    json matched = json::array(), unmatched = json::array();
    json submods = json::object();
    bool all_pass = true;
    std::vector<std::string> applied_ids, types;
    std::set<std::string> seen_types;
    for (const json& item : *evidences) {
      absl::StatusOr<std::string> type =
          json_fields::String(item, "attester_type");
      if (!type.ok() || type->size() > 255) {
        return Invalid("attester_type must be 1 to 255 characters");
      }
      if (*type != kTpmBoot && *type != kTpmIma) {
        return Invalid(absl::StrCat("Required plugins not found: ", *type));
      }
      if (!seen_types.insert(*type).second) {
        return Invalid(absl::StrCat(*type, " evidence is given twice"));
      }
      types.push_back(*type);
      const json* evidence_json = json_fields::Find(item, "evidence");
      if (evidence_json == nullptr) return Invalid("evidence is required");
      absl::StatusOr<TpmEvidence> evidence = ParseTpmEvidence(*evidence_json);
      if (!evidence.ok()) return evidence.status();
      absl::StatusOr<std::shared_ptr<EVP_PKEY>> ak =
          certs_->VerifyAkChain(user_id, *type, evidence->ak_cert_pems);
      if (!ak.ok()) return ak.status();
      const std::optional<std::string> expected_extra = ExpectedExtraData(
          nonce_bytes, attester_data_json.has_value()
                           ? std::optional<std::string>(attester_data_text)
                           : std::nullopt);
      if (absl::Status s = VerifyQuote(*evidence, **ak, expected_extra);
          !s.ok()) {
        return s;
      }
      absl::StatusOr<json> log;
      if (*type == kTpmBoot) {
        log = BootLogInput(*evidence);
      } else {
        absl::StatusOr<std::set<std::string>> digests =
            ref_values_->Digests(user_id);
        if (!digests.ok()) return digests.status();
        log = ImaLogInput(*evidence, *digests);
      }
      if (!log.ok()) return log.status();
      const std::string input =
          PolicyInput(*evidence, json::array({*std::move(log)})).dump();

      absl::StatusOr<std::vector<std::string>> ids =
          PolicyIds(item, measurement);
      if (!ids.ok()) return ids.status();
      absl::StatusOr<std::vector<AppliedPolicy>> applied =
          policies_->ForAttestation(user_id, *type, *ids);
      if (!applied.ok()) return applied.status();
      std::vector<PolicyVerdict> verdicts;
      json policy_info = json::array();
      for (const AppliedPolicy& policy : *applied) {
        absl::StatusOr<PolicyVerdict> verdict =
            EvaluateUserPolicy(*policy.rego, input);
        if (!verdict.ok()) return verdict.status();
        json info = {{"appraisal_policy_id", policy.policy.id()},
                     {"policy_version", policy.policy.version()},
                     {"policy_matched", verdict->matched},
                     {"attestation_valid", verdict->matched}};
        if (!verdict->custom_data.is_null()) {
          info["custom_data"] = verdict->custom_data;
        }
        policy_info.push_back(std::move(info));
        (verdict->matched ? matched : unmatched).push_back(policy.policy.id());
        applied_ids.push_back(policy.policy.id());
        verdicts.push_back(*std::move(verdict));
      }
      const std::string status = AttestationStatus(verdicts);
      all_pass = all_pass && status == "pass";
      absl::StatusOr<ExportedEvidence> exported =
          EvaluateExportPolicy(*export_policies_.at(*type), input);
      if (!exported.ok()) return exported.status();
      if (token_fmt == "eat") {
        json result = exported->annotated_evidence;
        result["attestation_status"] = status;
        result["policy_info"] = std::move(policy_info);
        claims[*type] = std::move(result);
      } else {
        json submod = {
            {"ear.status", EarStatus(status)},
            {"trellis.annotated-evidence", exported->annotated_evidence},
            {"trellis.policy-info", std::move(policy_info)}};
        if (!exported->trustworthiness_vector.is_null()) {
          submod["ear.trustworthiness-vector"] =
              exported->trustworthiness_vector;
        }
        if (!applied->empty()) {
          submod["ear.appraisal-policy-id"] = applied->front().policy.id();
        }
        submods[*type] = std::move(submod);
      }
    }
    claims["matched_policy"] = matched;
    claims["unmatched_policy"] = unmatched;
    claims["status"] = all_pass ? "pass" : "fail";
    if (token_fmt == "ear") {
      claims["eat_profile"] = kEarProfile;
      claims["ear.verifier-id"] = {{"developer", "trellis"},
                                   {"build", "trellis gta 1.0"}};
      claims["submods"] = std::move(submods);
    }
    claims["jti"] = crypto::RandomUuid();
    // Logged before it is returned; the token names its record.
    trellis::GtaChangeRecord record;
    record.set_user_id(user_id);
    record.set_resource("token");
    record.set_action("issue");
    record.set_resource_id(claims["jti"].get<std::string>());
    record.set_name(*node_id);
    record.set_status(claims["status"].get<std::string>());
    for (const std::string& id : applied_ids) record.add_policy_ids(id);
    for (const std::string& type : types) record.add_attester_types(type);
    record.set_content_sha256(
        crypto::Digest(crypto::DigestAlgorithm::kSha256, {claims.dump()}));
    absl::StatusOr<std::string> leaf = changes_->Append(std::move(record));
    if (!leaf.ok()) return leaf.status();
    claims["trellis_record_leaf_hash"] = absl::BytesToHexString(*leaf);
    absl::StatusOr<std::string> token = tokens_->Issue(std::move(claims));
    if (!token.ok()) return token.status();
    issued.push_back({*node_id, *std::move(token)});
  }
  return issued;
}

}  // namespace trellis::gta
