#include "ca/testing/csr.h"

#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>

namespace trellis::ca::testing {
namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

void AddName(X509_NAME* name, const char* field, const char* value) {
  Check(X509_NAME_add_entry_by_txt(
            name, field, MBSTRING_ASC,
            reinterpret_cast<const unsigned char*>(value), -1, -1, 0) == 1);
}

}  // namespace

crypto::PrivateKey NewP256Key() {
  crypto::PrivateKey key(EVP_EC_gen("P-256"));
  Check(key != nullptr);
  return key;
}

std::string MakeCsr(EVP_PKEY* key, const std::string& sans, const EVP_MD* md) {
  X509_REQ* req = X509_REQ_new();
  Check(req != nullptr);
  X509_NAME* name = X509_REQ_get_subject_name(req);
  AddName(name, "C", "US");
  AddName(name, "O", "SPIRE");
  Check(X509_REQ_set_pubkey(req, key) == 1);
  if (!sans.empty()) {
    STACK_OF(X509_EXTENSION)* exts = sk_X509_EXTENSION_new_null();
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(
        nullptr, nullptr, NID_subject_alt_name, sans.c_str());
    Check(ext != nullptr);
    sk_X509_EXTENSION_push(exts, ext);
    Check(X509_REQ_add_extensions(req, exts) == 1);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  Check(X509_REQ_sign(req, key, md) > 0);
  unsigned char* der = nullptr;
  const int len = i2d_X509_REQ(req, &der);
  Check(len > 0);
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  X509_REQ_free(req);
  return out;
}

}  // namespace trellis::ca::testing
