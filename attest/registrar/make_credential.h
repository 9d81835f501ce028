// TPM2_MakeCredential in software: seals a secret to a TPM's EK and an AK's
// Name, so that only that TPM, holding that AK, can recover it with
// TPM2_ActivateCredential (TPM 2.0 Part 1, 24 "Credential Protection";
// Part 3, MakeCredential). This is how the registrar proves that a
// registered AK lives in the TPM whose EK it was registered with.
#ifndef TRELLIS_ATTEST_REGISTRAR_MAKE_CREDENTIAL_H_
#define TRELLIS_ATTEST_REGISTRAR_MAKE_CREDENTIAL_H_

#include <tss2/tss2_tpm2_types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::attest {

struct Credential {
  std::string credential_blob;   // Marshalled TPM2B_ID_OBJECT.
  std::string encrypted_secret;  // Marshalled TPM2B_ENCRYPTED_SECRET.
};

// Seals `secret` (at most the EK nameAlg's digest size) to `ek` (an RSA or
// NIST P-256 storage key with AES-CFB, as the TCG default EKs) and
// `ak_name`.
absl::StatusOr<Credential> MakeCredential(const TPMT_PUBLIC& ek,
                                          absl::string_view ak_name,
                                          absl::string_view secret);

// KDFa of TPM 2.0 Part 1, 11.4.10.2 (SP 800-108 counter mode with HMAC):
// `bits` bits derived from `key` for `label` and the two contexts.
absl::StatusOr<std::string> KdfA(TPM2_ALG_ID hash, absl::string_view key,
                                 absl::string_view label,
                                 absl::string_view context_u,
                                 absl::string_view context_v, int bits);

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_REGISTRAR_MAKE_CREDENTIAL_H_
