#include "gta/policy_evaluation.h"

#include "absl/strings/str_cat.h"

namespace trellis::gta {
namespace {

// Trellis' export policies: what of the evidence each token carries, and an
// AR4SI trustworthiness vector for EAR (2 affirming, 3 warning, 32
// contraindicated, 33 unrecognised, 0 no claim).
constexpr char kTpmBootExport[] = R"rego(package verification

import future.keywords.if
import future.keywords.in

boot_logs := [l | some l in input.evidence.logs; l.log_type == "TcgEventLog"]

secure_boot := "enabled" if {
	some l in boot_logs
	some e in l.log_data
	e.event_type == "EV_EFI_VARIABLE_DRIVER_CONFIG"
	e.event.unicode_name == "SecureBoot"
	lower(e.event.variable_data.enabled) == "yes"
} else := "disabled" if {
	count(boot_logs) > 0
} else := "unknown"

default log_status := "no_log"

log_status := boot_logs[0].log_status

pcrs := {sprintf("%d", [p.pcr_index]): p.pcr_value | some p in input.evidence.pcrs.pcr_values}

executables := 2 if log_status == "replay_success"
else := 33 if log_status == "replay_failure"
else := 0

configuration := 2 if secure_boot == "enabled"
else := 32 if secure_boot == "disabled"
else := 0

result := {
	"annotated_evidence": {
		"secure_boot": secure_boot,
		"log_status": log_status,
		"hash_alg": input.evidence.pcrs.hash_alg,
		"pcrs": pcrs,
	},
	"ear_trustworthiness_vector": {
		"hardware": 2,
		"executables": executables,
		"configuration": configuration,
	},
}
)rego";

constexpr char kTpmImaExport[] = R"rego(package verification

import future.keywords.if
import future.keywords.in

ima_logs := [l | some l in input.evidence.logs; l.log_type == "ImaLog"]

default log_status := "no_log"

log_status := ima_logs[0].log_status

default ref_value_match_status := "ignore"

ref_value_match_status := ima_logs[0].ref_value_match_status

entries := [e | some l in ima_logs; some e in l.log_data.logs]

unmatched := count([e | some e in entries; e.ref_value_matched == false])

executables := 2 if {
	log_status == "replay_success"
	ref_value_match_status == "matched"
} else := 33 if {
	ref_value_match_status == "unmatched"
} else := 32 if {
	log_status == "replay_failure"
} else := 0

result := {
	"annotated_evidence": {
		"ima_log_status": log_status,
		"ref_value_match_status": ref_value_match_status,
		"measured_files": count(entries),
		"unmatched_files": unmatched,
	},
	"ear_trustworthiness_vector": {
		"hardware": 2,
		"executables": executables,
	},
}
)rego";

// Sample inputs in GTA's shape (log_status and the API document's older
// is_log_valid both given).
constexpr char kTpmBootSample[] = R"json({"evidence": {
  "logs": [{"log_type": "TcgEventLog", "log_status": "replay_success",
    "is_log_valid": true, "ref_value_match_status": "ignore",
    "log_data": [
      {"event_number": 1, "pcr_index": 0, "event_type": "EV_S_CRTM_VERSION",
       "digest": {"hash_id": "sha256", "digest": "00"}, "event": {}},
      {"event_number": 2, "pcr_index": 7,
       "event_type": "EV_EFI_VARIABLE_DRIVER_CONFIG",
       "digest": {"hash_id": "sha256", "digest": "00"},
       "event": {"variable_name": "8be4df61-93ca-11d2-aa0d-00e098032b8c",
                 "unicode_name": "SecureBoot",
                 "variable_data": {"enabled": "Yes"}}}]}],
  "pcrs": {"hash_alg": "sha256", "pcr_values": [
    {"pcr_index": 0, "pcr_value": "00"}, {"pcr_index": 1, "pcr_value": "00"},
    {"pcr_index": 2, "pcr_value": "00"}, {"pcr_index": 3, "pcr_value": "00"},
    {"pcr_index": 4, "pcr_value": "00"}, {"pcr_index": 5, "pcr_value": "00"},
    {"pcr_index": 6, "pcr_value": "00"}, {"pcr_index": 7, "pcr_value": "00"}]}}})json";

constexpr char kTpmImaSample[] = R"json({"evidence": {
  "logs": [{"log_type": "ImaLog", "log_status": "replay_success",
    "is_log_valid": true, "ref_value_match_status": "matched",
    "log_data": {"logs": [
      {"pcr_index": 10, "template_hash": "00", "template_name": "ima-ng",
       "file_hash_alg": "sha256", "file_hash": "00",
       "file_path": "boot_aggregate", "ref_value_matched": true},
      {"pcr_index": 10, "template_hash": "00", "template_name": "ima-ng",
       "file_hash_alg": "sha256", "file_hash": "00",
       "file_path": "/usr/bin/sh", "ref_value_matched": true}]}}],
  "pcrs": {"hash_alg": "sha256", "pcr_values": [
    {"pcr_index": 10, "pcr_value": "00"}]}}})json";

// The result of `policy` on `input_json` as JSON; INVALID_ARGUMENT if it is
// undefined.
absl::StatusOr<nlohmann::json> Result(const policy::RegoProgram& policy,
                                      absl::string_view input_json) {
  absl::StatusOr<std::optional<std::string>> result =
      policy.Evaluate(kResultQuery, input_json);
  if (!result.ok()) return result.status();
  if (!result->has_value()) {
    return absl::InvalidArgumentError("Policy evaluation returned no results");
  }
  nlohmann::json parsed = nlohmann::json::parse(**result, nullptr, false);
  if (!parsed.is_object()) {
    return absl::InvalidArgumentError("policy result must be an object");
  }
  return parsed;
}

absl::StatusOr<PolicyVerdict> VerdictOf(const nlohmann::json& result) {
  auto matched = result.find("policy_matched");
  if (matched == result.end()) matched = result.find("attestation_valid");
  if (matched == result.end() || !matched->is_boolean()) {
    return absl::InvalidArgumentError(
        "policy result must hold a boolean policy_matched (or "
        "attestation_valid)");
  }
  PolicyVerdict verdict;
  verdict.matched = matched->get<bool>();
  if (auto custom = result.find("custom_data"); custom != result.end()) {
    verdict.custom_data = *custom;
  }
  return verdict;
}

}  // namespace

absl::StatusOr<PolicyVerdict> EvaluateUserPolicy(
    const policy::RegoProgram& policy, absl::string_view input_json) {
  absl::StatusOr<nlohmann::json> result = Result(policy, input_json);
  if (!result.ok()) return result.status();
  return VerdictOf(*result);
}

std::string AttestationStatus(const std::vector<PolicyVerdict>& verdicts) {
  if (verdicts.empty()) return "unknown";
  for (const PolicyVerdict& verdict : verdicts) {
    if (!verdict.matched) return "fail";
  }
  return "pass";
}

absl::StatusOr<ExportedEvidence> EvaluateExportPolicy(
    const policy::RegoProgram& policy, absl::string_view input_json) {
  absl::StatusOr<nlohmann::json> result = Result(policy, input_json);
  if (!result.ok()) return result.status();
  ExportedEvidence exported;
  auto annotated = result->find("annotated_evidence");
  if (annotated == result->end() || !annotated->is_object()) {
    return absl::InvalidArgumentError(
        "export policy result must hold an annotated_evidence object");
  }
  exported.annotated_evidence = *annotated;
  if (auto vector = result->find("ear_trustworthiness_vector");
      vector != result->end()) {
    exported.trustworthiness_vector = *vector;
  }
  return exported;
}

absl::StatusOr<std::string> ExportPolicyText(absl::string_view attester_type) {
  if (attester_type == kTpmBoot) return std::string(kTpmBootExport);
  if (attester_type == kTpmIma) return std::string(kTpmImaExport);
  return absl::NotFoundError(
      absl::StrCat("no export policy for attester type ", attester_type));
}

absl::StatusOr<std::string> SampleInput(absl::string_view attester_type) {
  if (attester_type == kTpmBoot) return std::string(kTpmBootSample);
  if (attester_type == kTpmIma) return std::string(kTpmImaSample);
  return absl::InvalidArgumentError(
      absl::StrCat("unsupported attester type: ", attester_type));
}

absl::StatusOr<std::unique_ptr<policy::RegoProgram>> CompileUserPolicy(
    policy::RegoSandbox& sandbox, const std::string& rego,
    const std::vector<std::string>& attester_types) {
  absl::StatusOr<std::unique_ptr<policy::RegoProgram>> compiled =
      sandbox.Compile({{"policy.rego", rego}});
  if (!compiled.ok()) return compiled.status();
  for (const std::string& type : attester_types) {
    absl::StatusOr<std::string> sample = SampleInput(type);
    if (!sample.ok()) return sample.status();
    absl::StatusOr<std::optional<std::string>> result =
        (*compiled)->Evaluate(kResultQuery, *sample);
    if (!result.ok()) return result.status();
    if (!result->has_value()) {
      return absl::InvalidArgumentError(
          absl::StrCat("Policy evaluation returned no results on a sample ",
                       type, " input"));
    }
    const nlohmann::json parsed =
        nlohmann::json::parse(**result, nullptr, false);
    if (!parsed.is_object()) {
      return absl::InvalidArgumentError("policy result must be an object");
    }
    if (absl::StatusOr<PolicyVerdict> verdict = VerdictOf(parsed);
        !verdict.ok()) {
      return verdict.status();
    }
  }
  return compiled;
}

}  // namespace trellis::gta
