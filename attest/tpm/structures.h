// TPM 2.0 structures as they cross the wire in attestation evidence: public
// areas, attestation blocks (quotes and certifications) and signatures.
// Parsing uses tpm2-tss's marshalling library, which bounds-checks every
// field; on top of it we refuse trailing bytes and values the structures'
// own rules forbid, so a parsed structure is safe to act on.
#ifndef TRELLIS_ATTEST_TPM_STRUCTURES_H_
#define TRELLIS_ATTEST_TPM_STRUCTURES_H_

#include <tss2/tss2_tpm2_types.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::attest::tpm {

// PCRs in a bank (TCG PC Client platform): indices 0 .. kPcrCount - 1.
inline constexpr int kPcrCount = 24;

// A TPM2B_PUBLIC (size-prefixed public area). INVALID_ARGUMENT if malformed,
// of a type other than RSA or ECC, or followed by trailing bytes.
absl::StatusOr<TPMT_PUBLIC> ParsePublic(absl::string_view tpm2b_public);
// A bare TPMT_PUBLIC.
absl::StatusOr<TPMT_PUBLIC> ParsePublicArea(absl::string_view tpmt_public);
std::string MarshalPublicArea(const TPMT_PUBLIC& public_area);
std::string MarshalPublic(const TPMT_PUBLIC& public_area);  // As TPM2B.

// A TPMS_ATTEST made by a TPM (magic TPM_GENERATED_VALUE) of type
// TPM_ST_ATTEST_QUOTE, TPM_ST_ATTEST_CERTIFY or TPM_ST_ATTEST_CREATION;
// callers check the type they expect.
absl::StatusOr<TPMS_ATTEST> ParseAttest(absl::string_view bytes);
std::string MarshalAttest(const TPMS_ATTEST& attest);

// A TPMT_SIGNATURE of scheme RSASSA, RSAPSS or ECDSA.
absl::StatusOr<TPMT_SIGNATURE> ParseSignature(absl::string_view bytes);
std::string MarshalSignature(const TPMT_SIGNATURE& signature);

// A TPML_PCR_SELECTION.
absl::StatusOr<TPML_PCR_SELECTION> ParsePcrSelection(absl::string_view bytes);

// Byte views of the TPM's sized buffers.
inline absl::string_view View(const TPM2B_DIGEST& b) {
  return absl::string_view(reinterpret_cast<const char*>(b.buffer), b.size);
}
inline absl::string_view View(const TPM2B_DATA& b) {
  return absl::string_view(reinterpret_cast<const char*>(b.buffer), b.size);
}
inline absl::string_view View(const TPM2B_NAME& b) {
  return absl::string_view(reinterpret_cast<const char*>(b.name), b.size);
}

// Digest size of a TPM hash algorithm (SHA-1/256/384/512), or 0.
size_t DigestSize(TPM2_ALG_ID hash);
// The name tpm2-tools and Keylime use ("sha256"), or INVALID_ARGUMENT.
absl::StatusOr<TPM2_ALG_ID> HashFromName(absl::string_view name);
const char* HashName(TPM2_ALG_ID hash);

}  // namespace trellis::attest::tpm

#endif  // TRELLIS_ATTEST_TPM_STRUCTURES_H_
