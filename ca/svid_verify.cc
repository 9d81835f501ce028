#include "ca/svid_verify.h"

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "ca/x509.h"

namespace trellis::ca {
namespace {

constexpr size_t kMaxChainCertificates = 16;

struct X509Deleter {
  void operator()(X509* cert) const { X509_free(cert); }
};
using Certificate = std::unique_ptr<X509, X509Deleter>;

// Frees the stack only: the certificates belong to the caller.
struct StackDeleter {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
};

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(
      absl::StrCat("caller's X509-SVID is not trusted: ", why));
}

std::string ToDer(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  if (len <= 0) return "";
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

absl::StatusOr<VerifiedSvid> VerifySvidChain(
    absl::string_view chain_pem, const std::vector<std::string>& roots_der) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size())),
      BIO_free);
  std::vector<Certificate> chain;
  while (chain.size() <= kMaxChainCertificates) {
    Certificate cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
    if (cert == nullptr) break;
    chain.push_back(std::move(cert));
  }
  if (chain.empty()) return Unauthenticated("no client certificate");
  if (chain.size() > kMaxChainCertificates) {
    return Unauthenticated("chain is too long");
  }

  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(
      X509_STORE_new(), X509_STORE_free);
  for (const std::string& der : roots_der) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
    Certificate root(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (root == nullptr || X509_STORE_add_cert(store.get(), root.get()) != 1) {
      return absl::InternalError("a bundle root does not parse");
    }
  }
  std::unique_ptr<STACK_OF(X509), StackDeleter> intermediates(
      sk_X509_new_null());
  for (size_t i = 1; i < chain.size(); ++i) {
    sk_X509_push(intermediates.get(), chain[i].get());
  }
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(
      X509_STORE_CTX_new(), X509_STORE_CTX_free);
  if (ctx == nullptr ||
      X509_STORE_CTX_init(ctx.get(), store.get(), chain[0].get(),
                          intermediates.get()) != 1) {
    return absl::InternalError("cannot set up chain verification");
  }
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
  if (X509_verify_cert(ctx.get()) != 1) {
    return Unauthenticated(
        X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  absl::StatusOr<CertificateInfo> leaf =
      DescribeCertificate(ToDer(chain[0].get()));
  if (!leaf.ok()) return Unauthenticated("unreadable leaf");
  if (leaf->is_ca) return Unauthenticated("leaf is a CA certificate");
  if (leaf->uri_sans.size() != 1) {
    return Unauthenticated("leaf must have exactly one URI SAN");
  }
  return VerifiedSvid{std::move(leaf->uri_sans[0]),
                      std::move(leaf->serial_number), leaf->validity.not_after};
}

}  // namespace trellis::ca
