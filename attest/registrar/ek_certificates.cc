#include "attest/registrar/ek_certificates.h"

#include <openssl/x509.h>

#include "absl/strings/str_cat.h"

namespace trellis::attest {

absl::StatusOr<std::unique_ptr<EkCertificateAuthorities>>
EkCertificateAuthorities::Load(const std::string& file) {
  X509_STORE* store = X509_STORE_new();
  if (store == nullptr || X509_STORE_load_file(store, file.c_str()) != 1) {
    X509_STORE_free(store);
    return absl::InvalidArgumentError(
        absl::StrCat("cannot load EK CA certificates from ", file));
  }
  return std::unique_ptr<EkCertificateAuthorities>(
      new EkCertificateAuthorities(store));
}

absl::StatusOr<std::unique_ptr<EkCertificateAuthorities>>
EkCertificateAuthorities::LoadIfNamed(const std::string& file) {
  if (file.empty()) return nullptr;
  return Load(file);
}

EkCertificateAuthorities::~EkCertificateAuthorities() {
  X509_STORE_free(store_);
}

absl::Status EkCertificateAuthorities::Verify(absl::string_view der,
                                              const EVP_PKEY& ek) const {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      d2i_X509(nullptr, &p, static_cast<long>(der.size())), X509_free);
  if (cert == nullptr ||
      p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    return absl::PermissionDeniedError("EK certificate is not DER X.509");
  }
  if (EVP_PKEY_eq(X509_get0_pubkey(cert.get()), &ek) != 1) {
    return absl::PermissionDeniedError(
        "EK certificate is for another key than the EK");
  }
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(
      X509_STORE_CTX_new(), X509_STORE_CTX_free);
  if (ctx == nullptr ||
      X509_STORE_CTX_init(ctx.get(), store_, cert.get(), nullptr) != 1) {
    return absl::InternalError("cannot verify certificates");
  }
  if (X509_verify_cert(ctx.get()) != 1) {
    return absl::PermissionDeniedError(absl::StrCat(
        "EK certificate does not chain to a configured CA: ",
        X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get()))));
  }
  return absl::OkStatus();
}

}  // namespace trellis::attest
