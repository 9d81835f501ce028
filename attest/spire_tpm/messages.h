// The messages of bloomberg/spire-tpm-plugin's `tpm` node attestor, as its
// Go agent and server exchange them (encoding/json of Go structs: member
// names are the Go field names, byte fields standard base64). Facts:
// docs/spire-tpm-plugin-protocol.md.
#ifndef TRELLIS_ATTEST_SPIRE_TPM_MESSAGES_H_
#define TRELLIS_ATTEST_SPIRE_TPM_MESSAGES_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::attest::spire_tpm {

// The attestation type in AttestationData and the agent ID path segment.
inline constexpr char kAttestorName[] = "tpm";
// Payloads and answers larger than this are refused unread.
inline constexpr size_t kMaxMessageBytes = 64 * 1024;

// The agent's first message: its EK and a new AK with the TPM's proof of
// having created it (go-attestation's AttestationParameters).
struct AttestationPayload {
  std::string ek_pem;              // "CERTIFICATE" or "PUBLIC KEY" PEM.
  std::string ak_public;           // TPMT_PUBLIC.
  std::string create_data;         // TPMS_CREATION_DATA.
  std::string create_attestation;  // TPMS_ATTEST of TPM2_CertifyCreation.
  std::string create_signature;    // TPMT_SIGNATURE over it by the AK.
};
std::string EncodePayload(const AttestationPayload& payload);
// INVALID_ARGUMENT for anything but the plugin's JSON (TPM 1.2's
// UseTCSDActivationFormat refused).
absl::StatusOr<AttestationPayload> DecodePayload(absl::string_view json);

// The server's challenge: a credential sealed to the EK and the AK's Name.
struct EncryptedCredential {
  std::string credential;  // TPM2B_ID_OBJECT.
  std::string secret;      // TPM2B_ENCRYPTED_SECRET.
};
std::string EncodeChallenge(const EncryptedCredential& challenge);
absl::StatusOr<EncryptedCredential> DecodeChallenge(absl::string_view json);

// The agent's answer: the secret TPM2_ActivateCredential released.
std::string EncodeChallengeResponse(absl::string_view secret);
absl::StatusOr<std::string> DecodeChallengeResponse(absl::string_view json);

}  // namespace trellis::attest::spire_tpm

#endif  // TRELLIS_ATTEST_SPIRE_TPM_MESSAGES_H_
