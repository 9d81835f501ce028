#include "attest/verifier/policy.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "nlohmann/json.hpp"
#include "util/json_fields.h"

namespace trellis::attest {
namespace {

bool IsIntegrityCheck(const std::string& name) {
  return name == kEventLogValid || name == kImaPcrValid ||
         name == kImaAllowlistValid || name == kPcrValuesValid;
}

absl::Status Bool(const nlohmann::json& j, const char* name, bool& out) {
  auto it = j.find(name);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_boolean()) {
    return absl::InvalidArgumentError(
        absl::StrCat("policy field \"", name, "\" must be true or false"));
  }
  out = it->get<bool>();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Policy> ParsePolicy(const std::string& id, int64_t version,
                                   const std::string& text) {
  const nlohmann::json j =
      nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::InvalidArgumentError("policy is not a JSON object");
  }
  Policy p;
  p.id = id;
  p.version = version;
  p.text = text;
  p.digest = *tpm::TpmHash(TPM2_ALG_SHA256, text);
  if (auto ima = j.find("ima"); ima != j.end()) {
    absl::StatusOr<ima::RuntimePolicy> runtime =
        ima::RuntimePolicy::Parse(ima->dump());
    if (!runtime.ok()) return runtime.status();
    p.ima = std::move(*runtime);
  }
  for (auto [name, out] :
       {std::pair<const char*, bool*>{"require_ima", &p.require_ima},
        {"require_measured_boot", &p.require_measured_boot},
        {"accept_partial", &p.accept_partial}}) {
    if (absl::Status s = Bool(j, name, *out); !s.ok()) return s;
  }
  if (auto geo = j.find("geolocation_pcr"); geo != j.end()) {
    if (!geo->is_number_integer() || geo->get<int>() < 0 ||
        geo->get<int>() >= tpm::kPcrCount) {
      return absl::InvalidArgumentError("geolocation_pcr must be 0..23");
    }
    p.geolocation_pcr = geo->get<int>();
  }
  if (auto values = j.find("pcr_values"); values != j.end()) {
    const nlohmann::json* sha256 = json_fields::Find(*values, "sha256");
    if (values->size() != 1 || sha256 == nullptr || !sha256->is_object()) {
      return absl::InvalidArgumentError(
          "pcr_values must be {\"sha256\": {\"PCR\": \"hex\", ...}}");
    }
    for (const auto& [pcr, hex] : sha256->items()) {
      int index = -1;
      if (!absl::SimpleAtoi(pcr, &index) || index < 0 ||
          index >= tpm::kPcrCount || !hex.is_string() ||
          hex.get<std::string>().size() != 64 ||
          hex.get<std::string>().find_first_not_of("0123456789abcdefABCDEF") !=
              std::string::npos) {
        return absl::InvalidArgumentError(
            absl::StrCat("pcr_values entry \"", pcr, "\" is not PCR: hex"));
      }
      p.pcr_values[index] = absl::HexStringToBytes(hex.get<std::string>());
    }
  }
  return p;
}

const char* IntegrityName(Integrity integrity) {
  switch (integrity) {
    case Integrity::kPassedAllChecks:
      return "PASSED_ALL_CHECKS";
    case Integrity::kPartial:
      return "PARTIAL";
    case Integrity::kFailed:
      return "FAILED";
  }
  return "FAILED";
}

Integrity Decide(const Checks& checks) {
  bool core_failed = false;
  bool integrity_failed = false;
  for (const CheckResult& r : checks.results()) {
    if (r.passed) continue;
    (IsIntegrityCheck(r.name) ? integrity_failed : core_failed) = true;
  }
  if (core_failed || checks.results().empty()) return Integrity::kFailed;
  return integrity_failed ? Integrity::kPartial : Integrity::kPassedAllChecks;
}

bool Verified(Integrity integrity, const Policy& policy) {
  return integrity == Integrity::kPassedAllChecks ||
         (integrity == Integrity::kPartial && policy.accept_partial);
}

}  // namespace trellis::attest
