#include "crypto/self_signed.h"

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "crypto/keys.h"

namespace trellis::crypto {
namespace {

std::string BioText(BIO* bio) {
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  return std::string(data, len);
}

bool AddExtension(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

}  // namespace

absl::StatusOr<CertificateAndKey> SelfSignedCertificate(
    const std::string& common_name) {
  PrivateKey key(EVP_EC_gen("P-256"));
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), X509_free);
  if (key == nullptr || cert == nullptr) {
    return absl::InternalError("cannot create a key or certificate");
  }
  unsigned char serial[16];
  RAND_bytes(serial, sizeof(serial));
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  X509_NAME* name = X509_get_subject_name(cert.get());
  const bool ok =
      X509_set_version(cert.get(), 2) == 1 && bn != nullptr &&
      BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), 10L * 365 * 86400) !=
          nullptr &&
      X509_set_pubkey(cert.get(), key.get()) == 1 &&
      X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1,
          0) == 1 &&
      X509_set_issuer_name(cert.get(), name) == 1 &&
      AddExtension(cert.get(), NID_basic_constraints,
                   "critical,CA:TRUE,pathlen:0") &&
      AddExtension(cert.get(), NID_key_usage,
                   "critical,digitalSignature,keyCertSign") &&
      AddExtension(cert.get(), NID_ext_key_usage, "serverAuth") &&
      AddExtension(cert.get(), NID_subject_alt_name,
                   "DNS:localhost,IP:127.0.0.1,IP:::1") &&
      X509_sign(cert.get(), key.get(), EVP_sha256()) > 0;
  BN_free(bn);
  if (!ok) return absl::InternalError("cannot build the certificate");
  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()),
                                                     BIO_free);
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()),
                                                    BIO_free);
  if (PEM_write_bio_X509(cert_bio.get(), cert.get()) != 1 ||
      PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0,
                               nullptr, nullptr) != 1) {
    return absl::InternalError("cannot encode the certificate");
  }
  return CertificateAndKey{BioText(cert_bio.get()), BioText(key_bio.get())};
}

}  // namespace trellis::crypto
