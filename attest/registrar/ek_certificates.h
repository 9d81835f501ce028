// TPM manufacturers' CAs, against which EK certificates are checked: an EK
// certificate proves that a key is a genuine TPM's endorsement key. Used by
// the registrar and by trellisd's TPM node attestor.
#ifndef TRELLIS_ATTEST_REGISTRAR_EK_CERTIFICATES_H_
#define TRELLIS_ATTEST_REGISTRAR_EK_CERTIFICATES_H_

#include <openssl/evp.h>
#include <openssl/x509_vfy.h>

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::attest {

class EkCertificateAuthorities {
 public:
  // The CAs of the PEM bundle `file` (roots and intermediates);
  // INVALID_ARGUMENT if it cannot be read.
  static absl::StatusOr<std::unique_ptr<EkCertificateAuthorities>> Load(
      const std::string& file);
  // Load(file), or null when `file` is empty (no CAs configured).
  static absl::StatusOr<std::unique_ptr<EkCertificateAuthorities>> LoadIfNamed(
      const std::string& file);
  ~EkCertificateAuthorities();

  // OK if `der` is one DER certificate for `ek` chaining to the CAs;
  // PERMISSION_DENIED saying why otherwise.
  absl::Status Verify(absl::string_view der, const EVP_PKEY& ek) const;

 private:
  explicit EkCertificateAuthorities(X509_STORE* store) : store_(store) {}
  X509_STORE* const store_;
};

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_REGISTRAR_EK_CERTIFICATES_H_
