#include "attest/verifier/replay.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "attest/verifier/appraisal.h"

namespace trellis::attest {
namespace {

// Checks decided by the verifier's state when the evidence arrived.
bool Stateful(const std::string& check) {
  return check == "ak_registered" || check == "nonce_fresh" ||
         check == kClockMonotonic;
}

}  // namespace

absl::StatusOr<ReplayResult> ReplayAppraisal(const ReplayInputs& in) {
  const trellis::AttestationRecord& record = in.record;
  if (tpm::TpmHash(TPM2_ALG_SHA256, in.evidence).value_or("") !=
      record.evidence_digest()) {
    return absl::InvalidArgumentError(
        "the evidence does not hash to the record's evidence digest");
  }
  absl::StatusOr<Policy> policy =
      ParsePolicy(record.policy_id(), record.policy_version(), in.policy_text);
  if (!policy.ok()) return policy.status();
  if (policy->digest != record.policy_digest()) {
    return absl::InvalidArgumentError(
        "the policy text does not hash to the record's policy digest");
  }
  absl::StatusOr<EvidenceRequest> request = ParseEvidenceRequest(
      nlohmann::json::parse(in.evidence, nullptr, /*allow_exceptions=*/false));
  if (!request.ok()) return request.status();
  if (absl::HexStringToBytes(request->nonce) != record.nonce()) {
    return absl::InvalidArgumentError(
        "the evidence's nonce is not the record's");
  }
  absl::StatusOr<TPMT_PUBLIC> ek = tpm::ParsePublic(in.ek_public);
  absl::StatusOr<TPMT_PUBLIC> ak = tpm::ParsePublic(in.ak_public);
  if (!ek.ok() || !ak.ok()) {
    return absl::InvalidArgumentError("unusable EK or AK public area");
  }
  if (tpm::ObjectName(*ak).value_or("") != record.ak_name()) {
    return absl::InvalidArgumentError("the AK is not the record's");
  }
  RegisteredAk registered;
  registered.public_area = *ak;
  absl::StatusOr<std::string> ak_qn = tpm::AkQualifiedName(*ek, *ak);
  if (!ak_qn.ok()) return ak_qn.status();
  registered.qualified_name = *ak_qn;

  const Appraisal appraisal = AppraiseEvidence(
      *request, registered, /*previous=*/std::nullopt, *policy);
  ReplayResult result;
  for (const trellis::CheckOutcome& logged : record.checks()) {
    if (Stateful(logged.name())) {
      result.replayed.Add(logged.name(), logged.passed(), logged.detail());
      result.taken_from_record.push_back(logged.name());
      continue;
    }
    const CheckResult* again = appraisal.checks.Find(logged.name());
    if (again == nullptr) {
      result.differences.push_back(
          absl::StrCat(logged.name(), ": logged, not run by the replay"));
      continue;
    }
    result.replayed.Add(again->name, again->passed, again->detail);
    if (again->passed != logged.passed()) {
      result.differences.push_back(absl::StrCat(
          logged.name(), ": logged ", logged.passed() ? "passed" : "failed",
          ", replayed ", again->passed ? "passed" : "failed"));
    }
  }
  for (const CheckResult& r : appraisal.checks.results()) {
    bool logged = false;
    for (const trellis::CheckOutcome& c : record.checks()) {
      logged = logged || c.name() == r.name;
    }
    if (!logged) {
      result.replayed.Add(r.name, r.passed, r.detail);
      result.differences.push_back(
          absl::StrCat(r.name, ": run by the replay, not logged"));
    }
  }
  result.replayed_verified = Verified(Decide(result.replayed), *policy);
  result.agrees = result.differences.empty() &&
                  result.replayed_verified == record.verified();
  return result;
}

}  // namespace trellis::attest
