// GTA's policy semantics on top of the Rego engine: what a user policy's
// `data.verification.result` must hold, how the results of several
// policies combine into an attester type's status, the export policy whose
// annotated evidence goes into the token, and the check every uploaded
// policy passes (it compiles and evaluates on a sample input).
#ifndef TRELLIS_GTA_POLICY_EVALUATION_H_
#define TRELLIS_GTA_POLICY_EVALUATION_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "policy/rego_program.h"
#include "policy/rego_sandbox.h"

namespace trellis::gta {

// The query every GTA policy answers.
inline constexpr char kResultQuery[] = "data.verification.result";
// Attester types Trellis verifies.
inline constexpr char kTpmBoot[] = "tpm_boot";
inline constexpr char kTpmIma[] = "tpm_ima";

// What one user policy decided.
struct PolicyVerdict {
  bool matched = false;
  nlohmann::json custom_data;  // Null if the policy gave none.
};

// Evaluates a user policy on `input_json` (the policy input built from the
// evidence). Its result must be an object with a boolean `policy_matched`
// (GTA's name) or `attestation_valid` (the API document's) and may carry
// `custom_data`. INVALID_ARGUMENT otherwise, for an undefined result ("Policy
// evaluation returned no results", as GTA) or an evaluation error.
absl::StatusOr<PolicyVerdict> EvaluateUserPolicy(
    const policy::RegoProgram& policy, absl::string_view input_json);

// pass if every verdict matched, fail if one did not, unknown if there
// were none.
std::string AttestationStatus(const std::vector<PolicyVerdict>& verdicts);

// What the export policy of an attester type puts into the token.
struct ExportedEvidence {
  nlohmann::json annotated_evidence;  // An object, flattened into the token.
  nlohmann::json trustworthiness_vector;  // For EAR; null if none.
};
absl::StatusOr<ExportedEvidence> EvaluateExportPolicy(
    const policy::RegoProgram& policy, absl::string_view input_json);

// Trellis' export policy for `attester_type` (Rego text); NOT_FOUND for a
// type it does not verify.
absl::StatusOr<std::string> ExportPolicyText(absl::string_view attester_type);

// A policy input of `attester_type`'s shape, as the upload check uses.
absl::StatusOr<std::string> SampleInput(absl::string_view attester_type);

// An uploaded policy's Rego compiled in `sandbox` and evaluated there on the
// sample input of each of its attester types: a parse or evaluation error,
// or a defined result without a boolean policy_matched / attestation_valid,
// or an undefined result (as GTA: a policy must decide on typical
// evidence), is INVALID_ARGUMENT naming the problem.
absl::StatusOr<std::unique_ptr<policy::RegoProgram>> CompileUserPolicy(
    policy::RegoSandbox& sandbox, const std::string& rego,
    const std::vector<std::string>& attester_types);

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_POLICY_EVALUATION_H_
