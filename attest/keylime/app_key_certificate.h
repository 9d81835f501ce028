// The app key certificate of the Unified-Identity design: base64 of a JSON
// object holding a TPM2_Certify of the app key by the AK
// ({app_key_public, certify_data, signature, hash_alg, format}).
#ifndef TRELLIS_ATTEST_KEYLIME_APP_KEY_CERTIFICATE_H_
#define TRELLIS_ATTEST_KEYLIME_APP_KEY_CERTIFICATE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::attest::keylime {

// "app_key_tpm_public" (our addition; clients of the design ignore it) lets a
// verifier check that the certified Name is the app key's.
struct AppKeyCertificate {
  std::string app_key_public;      // PEM.
  std::string app_key_tpm_public;  // TPM2B_PUBLIC.
  std::string certify_data;        // TPMS_ATTEST (TPM2_Certify).
  std::string signature;           // TPMT_SIGNATURE by the AK.
  std::string hash_alg = "sha256";
};
std::string EncodeAppKeyCertificate(const AppKeyCertificate& cert);
absl::StatusOr<AppKeyCertificate> DecodeAppKeyCertificate(
    absl::string_view base64);

}  // namespace trellis::attest::keylime

#endif  // TRELLIS_ATTEST_KEYLIME_APP_KEY_CERTIFICATE_H_
