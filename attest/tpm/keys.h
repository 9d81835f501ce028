// TPM public keys: their Names, qualified names, and conversion to OpenSSL
// keys; verification of TPM signatures with them.
#ifndef TRELLIS_ATTEST_TPM_KEYS_H_
#define TRELLIS_ATTEST_TPM_KEYS_H_

#include <tss2/tss2_tpm2_types.h>

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/keys.h"

namespace trellis::attest::tpm {

// H_alg(data) for a TPM hash algorithm; INVALID_ARGUMENT if unsupported.
absl::StatusOr<std::string> TpmHash(TPM2_ALG_ID hash, absl::string_view data);
// H_alg(a || b), without building the concatenation (PCR extends).
absl::StatusOr<std::string> TpmHash2(TPM2_ALG_ID hash, absl::string_view a,
                                     absl::string_view b);

// The object's Name: nameAlg (2 bytes, big-endian) || H_nameAlg(TPMT_PUBLIC).
absl::StatusOr<std::string> ObjectName(const TPMT_PUBLIC& public_area);

// The Name of a permanent handle such as a hierarchy: the handle itself.
std::string HandleName(TPM2_HANDLE handle);

// An object's qualified name: nameAlg || H_nameAlg(parent's qualified name
// || the object's Name), the parent being a hierarchy for a primary key.
absl::StatusOr<std::string> QualifiedName(const TPMT_PUBLIC& public_area,
                                          absl::string_view parent_qualified);

// The qualified name of an AK created under an EK, the EK being a primary
// key of the endorsement hierarchy: what quotes by the AK carry in
// qualifiedSigner.
absl::StatusOr<std::string> AkQualifiedName(const TPMT_PUBLIC& ek,
                                            const TPMT_PUBLIC& ak);

// OpenSSL's digest for a TPM hash algorithm, or null if unsupported.
const EVP_MD* TpmMd(TPM2_ALG_ID hash);

// The OpenSSL public key of an RSA or ECC (NIST P-256/384/521) public area.
absl::StatusOr<crypto::PrivateKey> ToOpenSslKey(const TPMT_PUBLIC& public_area);

// The DER SubjectPublicKeyInfo of a PEM public key, to compare keys.
absl::StatusOr<std::string> PemToDer(absl::string_view pem);
// The PEM of a public area's key.
absl::StatusOr<std::string> ToPem(const TPMT_PUBLIC& public_area);

// Checks `signature` over `data` with `key`. The signature's hash must be
// `expected_hash` (FAILED_PRECONDITION otherwise); a signature that does not
// verify is UNAUTHENTICATED; unusable input INVALID_ARGUMENT.
absl::Status VerifyTpmSignature(const EVP_PKEY& key,
                                const TPMT_SIGNATURE& signature,
                                absl::string_view data,
                                TPM2_ALG_ID expected_hash);

// The TCG EK Credential Profile's default EK templates: L-1 (RSA 2048,
// `ecc` false) and L-2 (ECC NIST P-256), both AES-128-CFB storage keys under
// the PolicySecret(TPM_RH_ENDORSEMENT) policy, unique all zero.
TPMT_PUBLIC DefaultEkTemplate(bool ecc);
// The public area of a default-template EK whose key is `key` (RSA 2048 or
// P-256, as an EK certificate or PKIX key gives it): what TPM2_MakeCredential
// needs. INVALID_ARGUMENT for other keys.
absl::StatusOr<TPMT_PUBLIC> DefaultEkPublicArea(const EVP_PKEY& key);

// An attestation key as quotes need it: a restricted signing key, fixedTPM,
// fixedParent, sensitiveDataOrigin, not a decryption key. INVALID_ARGUMENT
// naming what is wrong otherwise.
absl::Status CheckAttestationKey(const TPMT_PUBLIC& ak);
// An endorsement key: a fixedTPM, restricted decryption key.
absl::Status CheckEndorsementKey(const TPMT_PUBLIC& ek);

}  // namespace trellis::attest::tpm

#endif  // TRELLIS_ATTEST_TPM_KEYS_H_
