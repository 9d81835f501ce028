// PCR values in tpm2-tools' "serialized" format, the third part of a Keylime
// quote (tpm2_quote -o): TPML_PCR_SELECTION and TPML_DIGEST dumped as the
// little-endian C structures of tpm2-tss. The layout, all little-endian:
//   TPML_PCR_SELECTION (132 bytes): uint32 count, then 16 slots of
//     {uint16 hash, uint8 sizeofSelect, uint8 pcrSelect[4], 1 pad byte}
//   uint32 n, the number of TPML_DIGESTs that follow
//   n x TPML_DIGEST (532 bytes): uint32 count, then 8 slots of
//     {uint16 size, uint8 buffer[64]}
// The digests list the selected PCRs bank by bank, each bank in ascending
// PCR order, 8 to a TPML_DIGEST. None of this is signed: a verifier must
// compare the selection with the one in the signed TPMS_QUOTE_INFO.
#ifndef TRELLIS_ATTEST_TPM_PCR_BLOB_H_
#define TRELLIS_ATTEST_TPM_PCR_BLOB_H_

#include <tss2/tss2_tpm2_types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::attest::tpm {

// One selected PCR and its value.
struct PcrValue {
  TPM2_ALG_ID bank;
  int pcr;
  std::string digest;
};

struct PcrBlob {
  TPML_PCR_SELECTION selection{};
  // In selection order: bank by bank, PCRs ascending.
  std::vector<PcrValue> values;
};

// INVALID_ARGUMENT if the size is wrong, a selection names an unknown hash
// or PCRs beyond 31, digest sizes do not match their bank, or the number of
// digests differs from the number of selected PCRs.
absl::StatusOr<PcrBlob> ParsePcrBlob(absl::string_view bytes);

// The blob for `values` (bank by bank, PCRs ascending within a bank), as
// tpm2_quote writes it.
absl::StatusOr<std::string> SerializePcrBlob(
    const std::vector<PcrValue>& values);

// The selected PCRs of a selection, in the order the TPM digests them.
struct SelectedPcr {
  TPM2_ALG_ID bank;
  int pcr;
  bool operator==(const SelectedPcr& o) const {
    return bank == o.bank && pcr == o.pcr;
  }
};
std::vector<SelectedPcr> SelectedPcrs(const TPML_PCR_SELECTION& selection);

// "sha256:0,1,16" for messages.
std::string DescribeSelection(const TPML_PCR_SELECTION& selection);

}  // namespace trellis::attest::tpm

#endif  // TRELLIS_ATTEST_TPM_PCR_BLOB_H_
