// The host side of attestation: a TPM 2.0 reached through tpm2-tss's ESAPI
// (any TCTI: "swtpm:host=127.0.0.1,port=2321", "device:/dev/tpmrm0",
// "tabrmd"). It makes the TCG default EK, attestation and application keys,
// quotes, certifications and credential activations. Keys live outside the
// TPM as TPM2B_PUBLIC / TPM2B_PRIVATE blobs (the tpm2-tools "tss" format)
// and are loaded per operation; every transient handle and session is
// flushed before a call returns, so no resource manager is needed.
#ifndef TRELLIS_ATTEST_HOST_TPM_DEVICE_H_
#define TRELLIS_ATTEST_HOST_TPM_DEVICE_H_

#include <tss2/tss2_esys.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attest/tpm/pcr_blob.h"

namespace trellis::attest::host {

// A key's public and (TPM-wrapped) private parts, marshalled.
struct KeyBlob {
  std::string public_area;   // TPM2B_PUBLIC.
  std::string private_area;  // TPM2B_PRIVATE.
};

// A signed TPM attestation (quote or certification).
struct SignedAttestation {
  std::string attest;     // TPMS_ATTEST, as signed.
  std::string signature;  // TPMT_SIGNATURE.
};

struct QuoteOutput {
  SignedAttestation signed_quote;
  // The PCR values the quote covers, read after it and checked against its
  // digest.
  std::vector<tpm::PcrValue> pcrs;
};

class TpmDevice {
 public:
  // Connects through `tcti`; UNAVAILABLE if the TPM cannot be reached.
  static absl::StatusOr<std::unique_ptr<TpmDevice>> Open(
      const std::string& tcti);
  ~TpmDevice();

  // Which TCG default EK to use: RSA 2048 (template L-1, the default) or
  // ECC NIST P-256 (L-2).
  void UseEccEk(bool ecc) { ecc_ek_ = ecc; }

  // The TCG default EK: the same key every time, as tpm2_createek makes it.
  // TPM2B_PUBLIC.
  absl::StatusOr<std::string> EkPublic();
  // The EK certificate from its NV index (0x01c00002 RSA, 0x01c0000a ECC),
  // DER; NOT_FOUND if the TPM has none.
  absl::StatusOr<std::string> EkCertificate();

  // A new attestation key under the EK: restricted signing, ECDSA P-256 or
  // RSASSA 2048 with SHA-256 (`algorithm` "ecc" or "rsa").
  absl::StatusOr<KeyBlob> CreateAk(absl::string_view algorithm);

  // An attestation key as go-attestation makes it for the
  // spire-tpm-plugin's `tpm` node attestor: a new RSA 2048 restricted
  // signing key (SHA-256) under the EK, with the proof that the TPM created
  // it: its creation data and TPM2_CertifyCreation of them by the key
  // itself.
  struct CertifiedAk {
    KeyBlob key;
    std::string creation_data;  // TPMS_CREATION_DATA.
    SignedAttestation certification;
  };
  absl::StatusOr<CertifiedAk> CreateCertifiedAk();

  // TPM2_Quote by `ak` over `pcrs` with `qualifying_data` in extraData.
  absl::StatusOr<QuoteOutput> Quote(const KeyBlob& ak,
                                    absl::string_view qualifying_data,
                                    const TPML_PCR_SELECTION& pcrs);

  // A new unrestricted ECDSA P-256 signing key under the owner hierarchy's
  // storage root key.
  absl::StatusOr<KeyBlob> CreateAppKey();
  // TPM2_Certify of `app_key` by `ak`.
  absl::StatusOr<SignedAttestation> Certify(const KeyBlob& app_key,
                                            const KeyBlob& ak,
                                            absl::string_view qualifying_data);

  // TPM2_ActivateCredential: the secret a verifier sealed to this EK and
  // the AK's Name (TPM2_MakeCredential), released only if `ak` is loaded in
  // the same TPM. `credential` is a TPM2B_ID_OBJECT, `secret` a
  // TPM2B_ENCRYPTED_SECRET, both marshalled.
  absl::StatusOr<std::string> ActivateCredential(const KeyBlob& ak,
                                                 absl::string_view credential,
                                                 absl::string_view secret);

  // Extends `pcr` in the SHA-256 bank with `digest` (32 bytes).
  absl::Status ExtendPcr(int pcr, absl::string_view digest);
  // Current values of the selected PCRs, in selection order.
  absl::StatusOr<std::vector<tpm::PcrValue>> ReadPcrs(
      const TPML_PCR_SELECTION& pcrs);

 private:
  TpmDevice(TSS2_TCTI_CONTEXT* tcti, ESYS_CONTEXT* esys)
      : tcti_(tcti), esys_(esys) {}

  class Handle;
  absl::StatusOr<Handle> CreatePrimary(ESYS_TR hierarchy,
                                       const TPM2B_PUBLIC& templ,
                                       const char* what);
  // What TPM2_Create says of the object's creation, for CertifyCreation.
  struct Creation {
    std::string data;  // TPMS_CREATION_DATA.
    TPM2B_DIGEST hash;
    TPMT_TK_CREATION ticket;
  };
  // A new key under `parent`; its creation record into `creation` if given.
  absl::StatusOr<KeyBlob> CreateChild(const Handle& parent, ESYS_TR session,
                                      const TPM2B_PUBLIC& templ,
                                      const char* what,
                                      Creation* creation = nullptr);
  absl::StatusOr<Handle> CreateEk();
  absl::StatusOr<Handle> CreateSrk();
  absl::StatusOr<Handle> EkPolicySession();
  absl::StatusOr<Handle> Load(const Handle& parent, ESYS_TR session,
                              const KeyBlob& key);
  absl::StatusOr<Handle> LoadUnderEk(const Handle& ek, const KeyBlob& key);
  absl::StatusOr<Handle> LoadAk(const KeyBlob& key);

  TSS2_TCTI_CONTEXT* tcti_;
  ESYS_CONTEXT* esys_;
  bool ecc_ek_ = false;
};

// "sha256:0,1,16" -> a selection; INVALID_ARGUMENT if malformed.
absl::StatusOr<TPML_PCR_SELECTION> ParsePcrList(absl::string_view list);

}  // namespace trellis::attest::host

#endif  // TRELLIS_ATTEST_HOST_TPM_DEVICE_H_
