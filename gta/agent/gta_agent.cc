#include "gta/agent/gta_agent.h"

#include <optional>
#include <set>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/digest.h"
#include "util/json_fields.h"

namespace trellis::gta::agent {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr size_t kMaxPolicyIds = 10;
constexpr size_t kMaxUserNonceBytes = 1024;

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

// One attester type's evidence to collect, and the policies to apply.
struct Attester {
  std::string type;
  std::vector<std::string> log_types;
  std::optional<std::vector<std::string>> policy_ids;
};

// What a measurement is bound to.
struct Freshness {
  std::string nonce_type = "verifier";
  ordered_json nonce;  // Null unless nonce_type is verifier.
  std::string user_nonce_text;
  std::string user_nonce;  // Decoded.
  std::optional<ordered_json> attester_data;
};

// A list of strings under `name` of `object` (absent: nullopt).
absl::StatusOr<std::optional<std::vector<std::string>>> Strings(
    const json& object, const char* name, size_t max_items) {
  const json* found = json_fields::Find(object, name);
  if (found == nullptr) return std::nullopt;
  if (!found->is_array() || found->size() > max_items) {
    return Invalid(
        absl::StrCat(name, " must be a list of at most ", max_items, " items"));
  }
  std::vector<std::string> out;
  for (const json& item : *found) {
    if (!item.is_string() || item.get<std::string>().empty() ||
        item.get<std::string>().size() > 255) {
      return Invalid(
          absl::StrCat(name, " must hold strings of 1 to 255 bytes"));
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

// attester_data as sent (its members in order: the quote binds its text).
absl::StatusOr<std::optional<ordered_json>> AttesterData(
    absl::string_view request_text) {
  const ordered_json ordered =
      ordered_json::parse(request_text, nullptr, /*allow_exceptions=*/false);
  auto found = ordered.find("attester_data");
  if (found == ordered.end() || found->is_null()) return std::nullopt;
  if (!found->is_object()) return Invalid("attester_data must be an object");
  if (found->dump().size() > kMaxAttesterDataBytes) {
    return Invalid(absl::StrCat("attester_data is over ", kMaxAttesterDataBytes,
                                " bytes"));
  }
  return *found;
}

// The /attest body for `attesters`, each quote bound to `freshness`.
absl::StatusOr<std::string> AttestBody(const EvidenceCollector& collector,
                                       const std::string& node_id,
                                       const std::vector<Attester>& attesters,
                                       const Freshness& freshness) {
  std::string bound;
  bool binds = false;
  if (freshness.nonce_type == "verifier") {
    if (freshness.nonce.is_string()) {
      if (!absl::Base64Unescape(freshness.nonce.get<std::string>(), &bound)) {
        return Invalid("nonce is not base64");
      }
    } else {
      bound = freshness.nonce.dump();
    }
    binds = true;
  } else if (freshness.nonce_type == "user") {
    bound = freshness.user_nonce;
    binds = true;
  }
  if (freshness.attester_data) {
    absl::StrAppend(&bound,
                    absl::Base64Escape(freshness.attester_data->dump()));
    binds = true;
  }
  const std::string qualifying_data =
      binds ? crypto::Digest(crypto::DigestAlgorithm::kSha256, {bound})
            : std::string();

  ordered_json evidences = ordered_json::array();
  for (const Attester& attester : attesters) {
    absl::StatusOr<ordered_json> evidence =
        collector.Collect(attester.type, qualifying_data, attester.log_types);
    if (!evidence.ok()) return evidence.status();
    ordered_json item = {{"attester_type", attester.type},
                         {"evidence", *std::move(evidence)}};
    if (attester.policy_ids) item["policy_ids"] = *attester.policy_ids;
    evidences.push_back(std::move(item));
  }
  ordered_json measurement = {{"node_id", node_id}};
  if (freshness.nonce_type == "verifier") {
    measurement["nonce"] = freshness.nonce;
  }
  if (freshness.attester_data) {
    measurement["attester_data"] = *freshness.attester_data;
  }
  measurement["evidences"] = std::move(evidences);
  ordered_json body = {{"agent_version", kAgentVersion},
                       {"nonce_type", freshness.nonce_type}};
  if (freshness.nonce_type == "user") {
    body["user_nonce"] = freshness.user_nonce_text;
  }
  body["measurements"] = ordered_json::array({std::move(measurement)});
  return body.dump();
}

// The attesters of an /evidences request: `attesters` (the document's
// table) or `attester_types` (its example).
absl::StatusOr<std::vector<Attester>> EvidenceAttesters(const json& request) {
  std::vector<Attester> out;
  if (const json* list = json_fields::Find(request, "attesters")) {
    if (!list->is_array()) return Invalid("attesters must be a list");
    for (const json& item : *list) {
      absl::StatusOr<std::string> type =
          json_fields::String(item, "attester_type");
      if (!type.ok()) return type.status();
      absl::StatusOr<std::optional<std::vector<std::string>>> logs =
          Strings(item, "log_types", 3);
      if (!logs.ok()) return logs.status();
      out.push_back({*type, logs->value_or(std::vector<std::string>{}), {}});
    }
  } else {
    absl::StatusOr<std::optional<std::vector<std::string>>> types =
        Strings(request, "attester_types", 2);
    if (!types.ok()) return types.status();
    for (const std::string& type :
         types->value_or(std::vector<std::string>{})) {
      out.push_back({type, {}, {}});
    }
  }
  if (out.empty()) return Invalid("attesters must name at least one type");
  return out;
}

absl::Status CheckUnique(const std::vector<Attester>& attesters) {
  std::set<std::string> seen;
  for (const Attester& attester : attesters) {
    if (!seen.insert(attester.type).second) {
      return Invalid(
          absl::StrCat("attester type ", attester.type, " is named twice"));
    }
  }
  if (attesters.size() > 2) return Invalid("at most two attester types");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> GtaAgent::Evidences(
    absl::string_view request_text) const {
  absl::StatusOr<json> request = json_fields::ParseObject(request_text);
  if (!request.ok()) return request.status();
  absl::StatusOr<std::vector<Attester>> attesters = EvidenceAttesters(*request);
  if (!attesters.ok()) return attesters.status();
  if (absl::Status s = CheckUnique(*attesters); !s.ok()) return s;

  Freshness freshness;
  absl::StatusOr<std::optional<std::string>> nonce_type =
      json_fields::OptionalString(*request, "nonce_type");
  if (!nonce_type.ok()) return nonce_type.status();
  freshness.nonce_type = nonce_type->value_or("verifier");
  if (freshness.nonce_type == "verifier") {
    const ordered_json ordered =
        ordered_json::parse(request_text, nullptr, /*allow_exceptions=*/false);
    auto nonce = ordered.find("nonce");
    if (nonce == ordered.end() || !(nonce->is_object() || nonce->is_string())) {
      return Invalid("nonce is required with nonce_type verifier");
    }
    freshness.nonce = *nonce;
  } else if (freshness.nonce_type == "user") {
    absl::StatusOr<std::string> text =
        json_fields::String(*request, "user_nonce");
    if (!text.ok())
      return Invalid("user_nonce is required with nonce_type user");
    if (!absl::Base64Unescape(*text, &freshness.user_nonce) ||
        freshness.user_nonce.empty() ||
        freshness.user_nonce.size() > kMaxUserNonceBytes) {
      return Invalid("user_nonce must be base64 of 1 to 1024 bytes");
    }
    freshness.user_nonce_text = *text;
  } else if (freshness.nonce_type != "ignore") {
    return Invalid("nonce_type must be ignore, user or verifier");
  }
  absl::StatusOr<std::optional<ordered_json>> data = AttesterData(request_text);
  if (!data.ok()) return data.status();
  freshness.attester_data = *std::move(data);
  return AttestBody(*collector_, node_id_, *attesters, freshness);
}

absl::StatusOr<std::string> GtaAgent::Token(
    absl::string_view request_text) const {
  if (service_ == nullptr) {
    return absl::FailedPreconditionError(
        "no GTA service is configured (--gta_service)");
  }
  absl::StatusOr<json> request = json_fields::ParseObject(request_text);
  if (!request.ok()) return request.status();
  std::vector<Attester> attesters;
  if (const json* info = json_fields::Find(*request, "attester_info")) {
    if (!info->is_array()) return Invalid("attester_info must be a list");
    for (const json& item : *info) {
      if (!item.is_object()) {
        return Invalid("attester_info must hold objects");
      }
      absl::StatusOr<std::optional<std::string>> type =
          json_fields::OptionalString(item, "attester_type");
      if (!type.ok()) return type.status();
      absl::StatusOr<std::optional<std::vector<std::string>>> ids =
          Strings(item, "policy_ids", kMaxPolicyIds);
      if (!ids.ok()) return ids.status();
      // An empty list means the defaults, as no list does.
      std::optional<std::vector<std::string>> policy_ids = *ids;
      if (policy_ids && policy_ids->empty()) policy_ids.reset();
      // No type: every type this host reports.
      const std::vector<std::string> types =
          type->has_value() ? std::vector<std::string>{**type}
                            : collector_->AttesterTypes();
      for (const std::string& each : types) {
        attesters.push_back({each, {}, policy_ids});
      }
    }
  }
  if (attesters.empty()) {
    for (const std::string& type : collector_->AttesterTypes()) {
      attesters.push_back({type, {}, {}});
    }
  }
  if (absl::Status s = CheckUnique(attesters); !s.ok()) return s;
  absl::StatusOr<std::optional<bool>> challenge =
      json_fields::OptionalBool(*request, "challenge");
  if (!challenge.ok()) return challenge.status();

  Freshness freshness;
  freshness.nonce_type = "ignore";
  if (challenge->value_or(false)) {
    std::vector<std::string> types;
    for (const Attester& attester : attesters) types.push_back(attester.type);
    absl::StatusOr<ordered_json> nonce = service_->Challenge(types);
    if (!nonce.ok()) return nonce.status();
    freshness.nonce_type = "verifier";
    freshness.nonce = *std::move(nonce);
  }
  absl::StatusOr<std::optional<ordered_json>> data = AttesterData(request_text);
  if (!data.ok()) return data.status();
  freshness.attester_data = *std::move(data);
  absl::StatusOr<std::string> body =
      AttestBody(*collector_, node_id_, attesters, freshness);
  if (!body.ok()) return body.status();
  return service_->Attest(*body);
}

}  // namespace trellis::gta::agent
