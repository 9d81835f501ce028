// Whole-buffer marshalling of TPM structures with tpm2-tss's MU functions:
// unmarshalling refuses malformed input and trailing bytes.
#ifndef TRELLIS_ATTEST_TPM_MARSHAL_H_
#define TRELLIS_ATTEST_TPM_MARSHAL_H_

#include <tss2/tss2_mu.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"

namespace trellis::attest::tpm {

// `fn` is a Tss2_MU_<T>_Unmarshal; `what` names T in errors.
template <typename T, typename Fn>
absl::StatusOr<T> TssUnmarshal(Fn fn, absl::string_view bytes,
                               const char* what) {
  T out{};
  size_t offset = 0;
  const TSS2_RC rc = fn(reinterpret_cast<const uint8_t*>(bytes.data()),
                        bytes.size(), &offset, &out);
  if (rc != TSS2_RC_SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrFormat("malformed %s (tss2 rc 0x%x)", what, rc));
  }
  if (offset != bytes.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, " followed by ", bytes.size() - offset, " trailing bytes"));
  }
  return out;
}

// `fn` is a Tss2_MU_<T>_Marshal. Empty only for values that would not have
// unmarshalled either.
template <typename T, typename Fn>
std::string TssMarshal(Fn fn, const T& value) {
  std::string out(sizeof(T) + 64, '\0');
  size_t offset = 0;
  if (fn(&value, reinterpret_cast<uint8_t*>(out.data()), out.size(), &offset) !=
      TSS2_RC_SUCCESS) {
    return "";
  }
  out.resize(offset);
  return out;
}

}  // namespace trellis::attest::tpm

#endif  // TRELLIS_ATTEST_TPM_MARSHAL_H_
