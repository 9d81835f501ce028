// The "tpm-app-key" evidence of the Unified-Identity design, as posted to
// /v2.4/verify/evidence: {type, data: {...}, metadata: {...}}.
#ifndef TRELLIS_ATTEST_VERIFIER_EVIDENCE_REQUEST_H_
#define TRELLIS_ATTEST_VERIFIER_EVIDENCE_REQUEST_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace trellis::attest {

struct EvidenceRequest {
  std::string type;   // "tpm-app-key".
  std::string nonce;  // Hex.
  std::string quote;  // Keylime quote string.
  std::string hash_alg;
  std::string app_key_public;       // PEM.
  std::string app_key_certificate;  // Base64 (app key certificate).
  std::string tpm_ak;               // Base64 TPM2B_PUBLIC of the AK.
  std::string tpm_ek;               // Optional; must match if given.
  std::string source;               // metadata.source
  std::string submission_type;      // metadata.submission_type

  // Optional, ours: integrity evidence and self-reported host facts.
  std::string ima_measurement_list;  // ASCII runtime measurements.
  std::string mb_measurement_list;   // Base64 of the binary boot event log.
  struct Geolocation {
    std::string country;
    double latitude = 0;   // -90 .. 90.
    double longitude = 0;  // -180 .. 180.
    // {"country","latitude","longitude"} with sorted keys: what the host
    // extends (SHA-256) into the policy's geolocation PCR.
    std::string canonical;
  };
  std::optional<Geolocation> geolocation;
  struct GpuMetrics {
    std::string status;          // healthy, degraded or failed.
    double utilization_pct = 0;  // 0 .. 100.
    int64_t memory_mb = 0;       // >= 0.
  };
  std::optional<GpuMetrics> gpu_metrics;
};

// The request body {type, data: {...}, metadata: {...}}. INVALID_ARGUMENT,
// naming the field, for anything missing, of the wrong type or out of range
// (a claim is refused, never passed through unchecked).
absl::StatusOr<EvidenceRequest> ParseEvidenceRequest(
    const nlohmann::json& body);
// The evidence as stored and digested: canonical JSON (sorted keys).
std::string CanonicalEvidence(const EvidenceRequest& request);
// The canonical geolocation document a host binds into its PCR.
std::string CanonicalGeolocation(const std::string& country, double latitude,
                                 double longitude);

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_EVIDENCE_REQUEST_H_
