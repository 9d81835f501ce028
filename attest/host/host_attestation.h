// One-command attestation of this host to a Trellis verifier (trellis-tpm
// attest): on first use the TPM keys are made and registered; then a
// nonce, an app key, a quote and the app key's certification by the AK,
// the evidence (with the host's IMA and boot logs and claims if given),
// and the verifier's verdict with its audit id.
#ifndef TRELLIS_ATTEST_HOST_HOST_ATTESTATION_H_
#define TRELLIS_ATTEST_HOST_HOST_ATTESTATION_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attest/api/verifier_client.h"
#include "attest/host/host_agent.h"
#include "nlohmann/json.hpp"

namespace trellis::attest::host {

struct Geolocation {
  std::string country;
  double latitude = 0;
  double longitude = 0;
};

// "COUNTRY,LATITUDE,LONGITUDE" (the country may hold commas; the last two
// fields are the degrees).
absl::StatusOr<Geolocation> ParseGeolocation(const std::string& text);

struct HostAttestationOptions {
  std::string host_id;
  std::string pcrs = "sha256:0,1,2,3,4,5,6,7,10";
  // Files whose contents go into the evidence; empty: none.
  std::string ima_log;   // ASCII runtime measurements
  std::string boot_log;  // TCG binary event log
  // A claimed location; the quote also covers geolocation_pcr so that the
  // verifier can tell whether the host bound it there.
  std::optional<Geolocation> geolocation;
  int geolocation_pcr = 15;
};

struct HostAttestation {
  // What was done before the verdict, e.g. "registered as web-1".
  std::vector<std::string> steps;
  bool verified = false;
  int http_status = 0;     // 200 verified, 422 a check failed
  nlohmann::json results;  // The verifier's: verification_details,
                           // failures, attested_claims, audit_id...
  std::string error;       // The verifier's reason when not verified.
};

// The whole exchange. A verdict either way is a HostAttestation; errors
// are what kept it from one (no TPM, unreachable verifier, bad files).
absl::StatusOr<HostAttestation> AttestHost(
    HostAgent& agent, VerifierClient& verifier,
    const HostAttestationOptions& options);

// For people: the verdict, each check, the claims and the audit id.
std::string FormatHostAttestation(const HostAttestation& attestation,
                                  const std::string& host_id);

// For programs: {host_id, verified, steps, http_status, error?, results}.
nlohmann::json HostAttestationJson(const HostAttestation& attestation,
                                   const std::string& host_id);

}  // namespace trellis::attest::host

#endif  // TRELLIS_ATTEST_HOST_HOST_ATTESTATION_H_
