#include "attest/verifier/evidence_request.h"

#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "attest/tpm/structures.h"

namespace trellis::attest {
namespace {

using nlohmann::json;

absl::Status Field(const json& object, const char* name, bool required,
                   std::string& out) {
  auto it = object.find(name);
  if (it == object.end() || it->is_null()) {
    if (required) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing required field \"", name, "\""));
    }
    return absl::OkStatus();
  }
  if (!it->is_string()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", name, "\" must be a string"));
  }
  out = it->get<std::string>();
  if (required && out.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("field \"", name, "\" is empty"));
  }
  return absl::OkStatus();
}

bool IsHex(const std::string& s) {
  return !s.empty() && s.size() % 2 == 0 &&
         s.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

}  // namespace

absl::StatusOr<EvidenceRequest> ParseEvidenceRequest(const json& body) {
  if (!body.is_object()) {
    return absl::InvalidArgumentError("body must be a JSON object");
  }
  EvidenceRequest r;
  if (absl::Status s = Field(body, "type", true, r.type); !s.ok()) return s;
  if (r.type != "tpm-app-key") {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported evidence type \"", r.type, "\""));
  }
  auto data = body.find("data");
  if (data == body.end() || !data->is_object()) {
    return absl::InvalidArgumentError("missing required object \"data\"");
  }
  for (auto [name, out, required] :
       {std::tuple<const char*, std::string*, bool>{"nonce", &r.nonce, true},
        {"quote", &r.quote, true},
        {"hash_alg", &r.hash_alg, true},
        {"app_key_public", &r.app_key_public, true},
        {"app_key_certificate", &r.app_key_certificate, true},
        {"tpm_ak", &r.tpm_ak, true},
        {"tpm_ek", &r.tpm_ek, false}}) {
    if (absl::Status s = Field(*data, name, required, *out); !s.ok()) return s;
  }
  if (!IsHex(r.nonce)) {
    return absl::InvalidArgumentError("field \"nonce\" must be hex");
  }
  if (!tpm::HashFromName(r.hash_alg).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported hash_alg \"", r.hash_alg, "\""));
  }
  if (auto metadata = body.find("metadata");
      metadata != body.end() && metadata->is_object()) {
    Field(*metadata, "source", false, r.source).IgnoreError();
    Field(*metadata, "submission_type", false, r.submission_type).IgnoreError();
  }
  return r;
}

std::string CanonicalEvidence(const EvidenceRequest& r) {
  const json j = {
      {"type", r.type},
      {"data",
       {{"nonce", absl::AsciiStrToLower(r.nonce)},
        {"quote", r.quote},
        {"hash_alg", r.hash_alg},
        {"app_key_public", r.app_key_public},
        {"app_key_certificate", r.app_key_certificate},
        {"tpm_ak", r.tpm_ak},
        {"tpm_ek", r.tpm_ek}}},
      {"metadata",
       {{"source", r.source}, {"submission_type", r.submission_type}}},
  };
  return j.dump();  // nlohmann objects keep keys sorted.
}

}  // namespace trellis::attest
