#include "ca/csr.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace trellis::ca {
namespace {

bool AddName(X509_NAME* name, const char* field, const char* value) {
  return X509_NAME_add_entry_by_txt(
             name, field, MBSTRING_ASC,
             reinterpret_cast<const unsigned char*>(value), -1, -1, 0) == 1;
}

}  // namespace

absl::StatusOr<std::string> MakeCsr(EVP_PKEY& key,
                                    absl::string_view spiffe_id) {
  return MakeCsrWithSans(
      key, spiffe_id.empty() ? "" : absl::StrCat("URI:", spiffe_id),
      EVP_sha256());
}

absl::StatusOr<std::string> MakeCsrWithSans(EVP_PKEY& key,
                                            const std::string& sans,
                                            const EVP_MD* md) {
  std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)> req(X509_REQ_new(),
                                                          X509_REQ_free);
  if (req == nullptr) return absl::ResourceExhaustedError("out of memory");
  X509_NAME* name = X509_REQ_get_subject_name(req.get());
  if (!AddName(name, "C", "US") || !AddName(name, "O", "SPIRE") ||
      X509_REQ_set_pubkey(req.get(), &key) != 1) {
    return absl::InternalError("cannot build the certificate request");
  }
  if (!sans.empty()) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(
        nullptr, nullptr, NID_subject_alt_name, sans.c_str());
    if (ext == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("not a subjectAltName: ", sans));
    }
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    sk_X509_EXTENSION_push(exts, ext);
    const int added = X509_REQ_add_extensions(req.get(), exts);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
    if (added != 1) return absl::InternalError("cannot add subjectAltName");
  }
  if (X509_REQ_sign(req.get(), &key, md) <= 0) {
    return absl::InternalError("cannot sign the certificate request");
  }
  unsigned char* der = nullptr;
  const int length = i2d_X509_REQ(req.get(), &der);
  if (length <= 0) return absl::InternalError("cannot encode the request");
  std::string out(reinterpret_cast<char*>(der), length);
  OPENSSL_free(der);
  return out;
}

}  // namespace trellis::ca
