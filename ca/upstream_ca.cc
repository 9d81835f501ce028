#include "ca/upstream_ca.h"

#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "crypto/keys.h"

namespace trellis::ca {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

X509Ptr Decode(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())),
                 X509_free);
}

// Whether `leaf` (with `intermediates`) chains to one of `roots`.
bool Chains(const std::string& leaf, const std::vector<std::string>& chain,
            const std::vector<std::string>& roots) {
  if (std::find(roots.begin(), roots.end(), leaf) != roots.end()) return true;
  std::unique_ptr<X509_STORE, decltype(&X509_STORE_free)> store(
      X509_STORE_new(), X509_STORE_free);
  struct StackFree {
    void operator()(STACK_OF(X509) * stack) const { sk_X509_free(stack); }
  };
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  std::vector<X509Ptr> held;
  for (const std::string& root : roots) {
    held.push_back(Decode(root));
    if (held.back() == nullptr ||
        X509_STORE_add_cert(store.get(), held.back().get()) != 1) {
      return false;
    }
  }
  for (const std::string& der : chain) {
    held.push_back(Decode(der));
    if (held.back() == nullptr) return false;
    sk_X509_push(untrusted.get(), held.back().get());
  }
  X509Ptr target = Decode(leaf);
  std::unique_ptr<X509_STORE_CTX, decltype(&X509_STORE_CTX_free)> ctx(
      X509_STORE_CTX_new(), X509_STORE_CTX_free);
  const bool ok = target != nullptr && ctx != nullptr &&
                  X509_STORE_CTX_init(ctx.get(), store.get(), target.get(),
                                      untrusted.get()) == 1 &&
                  X509_verify_cert(ctx.get()) == 1;
  ERR_clear_error();
  return ok;
}

}  // namespace

absl::StatusOr<UpstreamCa> ParseUpstreamCa(absl::string_view cert_pem,
                                           absl::string_view key_pem,
                                           absl::string_view bundle_pem,
                                           const std::string& trust_domain) {
  absl::StatusOr<std::vector<std::string>> certs =
      CertificatesFromPem(cert_pem);
  if (!certs.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("upstream CA certificate: ", certs.status().message()));
  }
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::ParsePrivateKeyPem(key_pem, "");
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("upstream CA key: ", key.status().message()));
  }
  absl::StatusOr<std::string> key_der = crypto::MarshalPrivateKey(**key);
  if (!key_der.ok()) return key_der.status();
  absl::StatusOr<ParsedIssuer> issuer =
      ParseIssuerFor({certs->front(), *key_der}, trust_domain);
  if (!issuer.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("upstream CA: ", issuer.status().message()));
  }
  UpstreamCa upstream;
  if (bundle_pem.empty()) {
    // No bundle: the CA certificate is its own root.
    upstream.roots = {certs->front()};
  } else {
    absl::StatusOr<std::vector<std::string>> roots =
        CertificatesFromPem(bundle_pem);
    if (!roots.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("upstream bundle: ", roots.status().message()));
    }
    upstream.roots = std::move(*roots);
  }
  // Roots must be self-signed: SVID chains are verified up to one.
  for (const std::string& root : upstream.roots) {
    X509Ptr cert = Decode(root);
    if (cert == nullptr ||
        X509_check_issued(cert.get(), cert.get()) != X509_V_OK) {
      ERR_clear_error();
      return absl::InvalidArgumentError(
          bundle_pem.empty()
              ? "without an upstream bundle the upstream CA certificate must "
                "be self-signed (a root)"
              : "every certificate of the upstream bundle must be a "
                "self-signed root");
    }
  }
  for (const std::string& der : *certs) {
    if (std::find(upstream.roots.begin(), upstream.roots.end(), der) ==
        upstream.roots.end()) {
      upstream.chain.push_back(der);
    }
  }
  const std::vector<std::string> above(upstream.chain.empty()
                                           ? upstream.chain.begin()
                                           : upstream.chain.begin() + 1,
                                       upstream.chain.end());
  if (!Chains(certs->front(), above, upstream.roots)) {
    return absl::InvalidArgumentError(
        "the upstream CA certificate does not chain to the upstream bundle");
  }
  upstream.issuer = std::make_shared<const ParsedIssuer>(std::move(*issuer));
  return upstream;
}

}  // namespace trellis::ca
