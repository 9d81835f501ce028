#include "attest/verifier/evidence_request.h"

#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "attest/tpm/structures.h"
#include "util/json_fields.h"

namespace trellis::attest {
namespace {

// Longer is not a country name; the claim is refused rather than stored.
constexpr size_t kMaxCountryLength = 100;

using nlohmann::json;

// An optional string member into `out` (left empty when absent).
absl::Status OptionalText(const json& object, const char* name,
                          std::string& out) {
  absl::StatusOr<std::optional<std::string>> value =
      json_fields::OptionalString(object, name);
  if (!value.ok()) return value.status();
  if (value->has_value()) out = std::move(**value);
  return absl::OkStatus();
}

bool IsHex(const std::string& s) {
  return !s.empty() && s.size() % 2 == 0 &&
         s.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
}

absl::StatusOr<EvidenceRequest::Geolocation> ParseGeolocation(const json& geo) {
  absl::StatusOr<std::string> country = json_fields::String(geo, "country");
  absl::StatusOr<double> latitude = json_fields::Number(geo, "latitude");
  absl::StatusOr<double> longitude = json_fields::Number(geo, "longitude");
  if (!geo.is_object() || !country.ok() || !latitude.ok() || !longitude.ok()) {
    return absl::InvalidArgumentError(
        "geolocation must be {country, latitude, longitude}");
  }
  EvidenceRequest::Geolocation g;
  g.country = std::move(*country);
  g.latitude = *latitude;
  g.longitude = *longitude;
  if (g.country.size() > kMaxCountryLength || !(g.latitude >= -90) ||
      !(g.latitude <= 90) || !(g.longitude >= -180) || !(g.longitude <= 180)) {
    return absl::InvalidArgumentError(
        "geolocation out of range (latitude -90..90, longitude -180..180, "
        "a country)");
  }
  g.canonical = CanonicalGeolocation(g.country, g.latitude, g.longitude);
  return g;
}

absl::StatusOr<EvidenceRequest::GpuMetrics> ParseGpuMetrics(const json& gpu) {
  absl::StatusOr<std::string> status = json_fields::String(gpu, "status");
  absl::StatusOr<double> utilization =
      json_fields::Number(gpu, "utilization_pct");
  absl::StatusOr<int64_t> memory = json_fields::Integer(gpu, "memory_mb");
  if (!gpu.is_object() || !status.ok() || !utilization.ok() || !memory.ok()) {
    return absl::InvalidArgumentError(
        "gpu_metrics must be {status, utilization_pct, memory_mb}");
  }
  EvidenceRequest::GpuMetrics m;
  m.status = std::move(*status);
  m.utilization_pct = *utilization;
  m.memory_mb = *memory;
  if ((m.status != "healthy" && m.status != "degraded" &&
       m.status != "failed") ||
      !(m.utilization_pct >= 0) || !(m.utilization_pct <= 100) ||
      m.memory_mb < 0) {
    return absl::InvalidArgumentError(
        "gpu_metrics out of range (status healthy|degraded|failed, "
        "utilization_pct 0..100, memory_mb >= 0)");
  }
  return m;
}

}  // namespace

absl::StatusOr<EvidenceRequest> ParseEvidenceRequest(const json& body) {
  if (!body.is_object()) {
    return absl::InvalidArgumentError("body must be a JSON object");
  }
  EvidenceRequest r;
  absl::StatusOr<std::string> type = json_fields::String(body, "type");
  if (!type.ok()) return type.status();
  r.type = std::move(*type);
  if (r.type != "tpm-app-key") {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported evidence type \"", r.type, "\""));
  }
  const json* data = json_fields::Find(body, "data");
  if (data == nullptr || !data->is_object()) {
    return absl::InvalidArgumentError("missing required object \"data\"");
  }
  for (auto [name, out] :
       {std::pair<const char*, std::string*>{"nonce", &r.nonce},
        {"quote", &r.quote},
        {"hash_alg", &r.hash_alg},
        {"app_key_public", &r.app_key_public},
        {"app_key_certificate", &r.app_key_certificate},
        {"tpm_ak", &r.tpm_ak}}) {
    absl::StatusOr<std::string> value = json_fields::String(*data, name);
    if (!value.ok()) return value.status();
    *out = std::move(*value);
  }
  if (!IsHex(r.nonce)) {
    return absl::InvalidArgumentError("field \"nonce\" must be hex");
  }
  if (!tpm::HashFromName(r.hash_alg).ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported hash_alg \"", r.hash_alg, "\""));
  }
  for (auto [name, out] :
       {std::pair<const char*, std::string*>{"tpm_ek", &r.tpm_ek},
        {"ima_measurement_list", &r.ima_measurement_list},
        {"mb_measurement_list", &r.mb_measurement_list}}) {
    if (absl::Status s = OptionalText(*data, name, *out); !s.ok()) return s;
  }
  if (const json* geo = json_fields::Find(*data, "geolocation")) {
    absl::StatusOr<EvidenceRequest::Geolocation> g = ParseGeolocation(*geo);
    if (!g.ok()) return g.status();
    r.geolocation = std::move(*g);
  }
  if (const json* gpu = json_fields::Find(*data, "gpu_metrics")) {
    absl::StatusOr<EvidenceRequest::GpuMetrics> m = ParseGpuMetrics(*gpu);
    if (!m.ok()) return m.status();
    r.gpu_metrics = std::move(*m);
  }
  if (const json* metadata = json_fields::Find(body, "metadata")) {
    // Informational only: a mistyped member is ignored, not refused.
    OptionalText(*metadata, "source", r.source).IgnoreError();
    OptionalText(*metadata, "submission_type", r.submission_type).IgnoreError();
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
