// The "tpm-app-key" evidence of the Unified-Identity design, as posted to
// /v2.4/verify/evidence: {type, data: {...}, metadata: {...}}.
#ifndef TRELLIS_ATTEST_VERIFIER_EVIDENCE_REQUEST_H_
#define TRELLIS_ATTEST_VERIFIER_EVIDENCE_REQUEST_H_

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
};

// The request body {type, data: {...}, metadata: {...}}. INVALID_ARGUMENT,
// naming the field, for anything missing or of the wrong type.
absl::StatusOr<EvidenceRequest> ParseEvidenceRequest(
    const nlohmann::json& body);
// The evidence as stored and digested: canonical JSON (sorted keys).
std::string CanonicalEvidence(const EvidenceRequest& request);

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_EVIDENCE_REQUEST_H_
