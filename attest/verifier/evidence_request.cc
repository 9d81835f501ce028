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
  for (auto [name, out] : {std::pair<const char*, std::string*>{
                               "ima_measurement_list", &r.ima_measurement_list},
                           {"mb_measurement_list", &r.mb_measurement_list}}) {
    if (absl::Status s = Field(*data, name, false, *out); !s.ok()) return s;
  }
  if (auto geo = data->find("geolocation");
      geo != data->end() && !geo->is_null()) {
    if (!geo->is_object() || !(*geo)["country"].is_string() ||
        !(*geo)["latitude"].is_number() || !(*geo)["longitude"].is_number()) {
      return absl::InvalidArgumentError(
          "geolocation must be {country, latitude, longitude}");
    }
    EvidenceRequest::Geolocation g;
    g.country = (*geo)["country"].get<std::string>();
    g.latitude = (*geo)["latitude"].get<double>();
    g.longitude = (*geo)["longitude"].get<double>();
    if (g.country.empty() || g.country.size() > 100 || !(g.latitude >= -90) ||
        !(g.latitude <= 90) || !(g.longitude >= -180) ||
        !(g.longitude <= 180)) {
      return absl::InvalidArgumentError(
          "geolocation out of range (latitude -90..90, longitude -180..180, "
          "a country)");
    }
    g.canonical = CanonicalGeolocation(g.country, g.latitude, g.longitude);
    r.geolocation = std::move(g);
  }
  if (auto gpu = data->find("gpu_metrics");
      gpu != data->end() && !gpu->is_null()) {
    if (!gpu->is_object() || !(*gpu)["status"].is_string() ||
        !(*gpu)["utilization_pct"].is_number() ||
        !(*gpu)["memory_mb"].is_number_integer()) {
      return absl::InvalidArgumentError(
          "gpu_metrics must be {status, utilization_pct, memory_mb}");
    }
    EvidenceRequest::GpuMetrics m;
    m.status = (*gpu)["status"].get<std::string>();
    m.utilization_pct = (*gpu)["utilization_pct"].get<double>();
    m.memory_mb = (*gpu)["memory_mb"].get<int64_t>();
    if ((m.status != "healthy" && m.status != "degraded" &&
         m.status != "failed") ||
        !(m.utilization_pct >= 0) || !(m.utilization_pct <= 100) ||
        m.memory_mb < 0) {
      return absl::InvalidArgumentError(
          "gpu_metrics out of range (status healthy|degraded|failed, "
          "utilization_pct 0..100, memory_mb >= 0)");
    }
    r.gpu_metrics = m;
  }
  if (auto metadata = body.find("metadata");
      metadata != body.end() && metadata->is_object()) {
    Field(*metadata, "source", false, r.source).IgnoreError();
    Field(*metadata, "submission_type", false, r.submission_type).IgnoreError();
  }
  return r;
}

std::string CanonicalEvidence(const EvidenceRequest& r) {
  json j = {
      {"type", r.type},
      {"data",
       {{"nonce", absl::AsciiStrToLower(r.nonce)},
        {"quote", r.quote},
        {"hash_alg", r.hash_alg},
        {"app_key_public", r.app_key_public},
        {"app_key_certificate", r.app_key_certificate},
        {"tpm_ak", r.tpm_ak},
        {"tpm_ek", r.tpm_ek},
        {"ima_measurement_list", r.ima_measurement_list},
        {"mb_measurement_list", r.mb_measurement_list}}},
      {"metadata",
       {{"source", r.source}, {"submission_type", r.submission_type}}},
  };
  if (r.geolocation.has_value()) {
    j["data"]["geolocation"] = json::parse(r.geolocation->canonical);
  }
  if (r.gpu_metrics.has_value()) {
    j["data"]["gpu_metrics"] = {
        {"status", r.gpu_metrics->status},
        {"utilization_pct", r.gpu_metrics->utilization_pct},
        {"memory_mb", r.gpu_metrics->memory_mb}};
  }
  return j.dump();  // nlohmann objects keep keys sorted.
}

std::string CanonicalGeolocation(const std::string& country, double latitude,
                                 double longitude) {
  return json{
      {"country", country}, {"latitude", latitude}, {"longitude", longitude}}
      .dump();
}

}  // namespace trellis::attest
