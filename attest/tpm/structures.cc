#include "attest/tpm/structures.h"

#include <tss2/tss2_mu.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attest/tpm/marshal.h"

namespace trellis::attest::tpm {
namespace {

absl::Status CheckPublicArea(const TPMT_PUBLIC& p) {
  if (p.type != TPM2_ALG_RSA && p.type != TPM2_ALG_ECC) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unsupported public key type 0x%x", p.type));
  }
  if (DigestSize(p.nameAlg) == 0) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unsupported name algorithm 0x%x", p.nameAlg));
  }
  if (p.type == TPM2_ALG_RSA && p.unique.rsa.size == 0) {
    return absl::InvalidArgumentError("RSA public key without a modulus");
  }
  if (p.type == TPM2_ALG_ECC &&
      (p.unique.ecc.x.size == 0 || p.unique.ecc.y.size == 0)) {
    return absl::InvalidArgumentError("ECC public key without a point");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TPMT_PUBLIC> ParsePublic(absl::string_view bytes) {
  absl::StatusOr<TPM2B_PUBLIC> p = TssUnmarshal<TPM2B_PUBLIC>(
      Tss2_MU_TPM2B_PUBLIC_Unmarshal, bytes, "TPM2B_PUBLIC");
  if (!p.ok()) return p.status();
  if (absl::Status s = CheckPublicArea(p->publicArea); !s.ok()) return s;
  return p->publicArea;
}

absl::StatusOr<TPMT_PUBLIC> ParsePublicArea(absl::string_view bytes) {
  absl::StatusOr<TPMT_PUBLIC> p = TssUnmarshal<TPMT_PUBLIC>(
      Tss2_MU_TPMT_PUBLIC_Unmarshal, bytes, "TPMT_PUBLIC");
  if (!p.ok()) return p.status();
  if (absl::Status s = CheckPublicArea(*p); !s.ok()) return s;
  return p;
}

std::string MarshalPublicArea(const TPMT_PUBLIC& public_area) {
  return TssMarshal(Tss2_MU_TPMT_PUBLIC_Marshal, public_area);
}

std::string MarshalPublic(const TPMT_PUBLIC& public_area) {
  TPM2B_PUBLIC p{};
  p.publicArea = public_area;
  return TssMarshal(Tss2_MU_TPM2B_PUBLIC_Marshal, p);
}

absl::StatusOr<TPMS_ATTEST> ParseAttest(absl::string_view bytes) {
  absl::StatusOr<TPMS_ATTEST> a = TssUnmarshal<TPMS_ATTEST>(
      Tss2_MU_TPMS_ATTEST_Unmarshal, bytes, "TPMS_ATTEST");
  if (!a.ok()) return a.status();
  if (a->magic != TPM2_GENERATED_VALUE) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "TPMS_ATTEST magic 0x%08x is not TPM_GENERATED_VALUE", a->magic));
  }
  if (a->type != TPM2_ST_ATTEST_QUOTE && a->type != TPM2_ST_ATTEST_CERTIFY &&
      a->type != TPM2_ST_ATTEST_CREATION) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unsupported TPMS_ATTEST type 0x%04x", a->type));
  }
  return a;
}

std::string MarshalAttest(const TPMS_ATTEST& attest) {
  return TssMarshal(Tss2_MU_TPMS_ATTEST_Marshal, attest);
}

absl::StatusOr<TPMT_SIGNATURE> ParseSignature(absl::string_view bytes) {
  absl::StatusOr<TPMT_SIGNATURE> s = TssUnmarshal<TPMT_SIGNATURE>(
      Tss2_MU_TPMT_SIGNATURE_Unmarshal, bytes, "TPMT_SIGNATURE");
  if (!s.ok()) return s.status();
  if (s->sigAlg != TPM2_ALG_RSASSA && s->sigAlg != TPM2_ALG_RSAPSS &&
      s->sigAlg != TPM2_ALG_ECDSA) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unsupported signature scheme 0x%x", s->sigAlg));
  }
  return s;
}

std::string MarshalSignature(const TPMT_SIGNATURE& signature) {
  return TssMarshal(Tss2_MU_TPMT_SIGNATURE_Marshal, signature);
}

absl::StatusOr<TPML_PCR_SELECTION> ParsePcrSelection(absl::string_view bytes) {
  return TssUnmarshal<TPML_PCR_SELECTION>(Tss2_MU_TPML_PCR_SELECTION_Unmarshal,
                                          bytes, "TPML_PCR_SELECTION");
}

size_t DigestSize(TPM2_ALG_ID hash) {
  switch (hash) {
    case TPM2_ALG_SHA1:
      return 20;
    case TPM2_ALG_SHA256:
      return 32;
    case TPM2_ALG_SHA384:
      return 48;
    case TPM2_ALG_SHA512:
      return 64;
    default:
      return 0;
  }
}

absl::StatusOr<TPM2_ALG_ID> HashFromName(absl::string_view name) {
  if (name == "sha1") return TPM2_ALG_SHA1;
  if (name == "sha256") return TPM2_ALG_SHA256;
  if (name == "sha384") return TPM2_ALG_SHA384;
  if (name == "sha512") return TPM2_ALG_SHA512;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown hash algorithm \"", name, "\""));
}

const char* HashName(TPM2_ALG_ID hash) {
  switch (hash) {
    case TPM2_ALG_SHA1:
      return "sha1";
    case TPM2_ALG_SHA256:
      return "sha256";
    case TPM2_ALG_SHA384:
      return "sha384";
    case TPM2_ALG_SHA512:
      return "sha512";
    default:
      return "unknown";
  }
}

}  // namespace trellis::attest::tpm
