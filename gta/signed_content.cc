#include "gta/signed_content.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crypto/rsa_pss.h"

namespace trellis::gta {
namespace {

using nlohmann::json;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// A JOSE ECDSA signature (r || s) as DER.
std::string JoseToDer(absl::string_view sig) {
  const size_t half = sig.size() / 2;
  ECDSA_SIG* ecdsa = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(sig.data()),
                        half, nullptr);
  BIGNUM* s = BN_bin2bn(
      reinterpret_cast<const unsigned char*>(sig.data()) + half, half, nullptr);
  ECDSA_SIG_set0(ecdsa, r, s);
  unsigned char* der = nullptr;
  const int n = i2d_ECDSA_SIG(ecdsa, &der);
  std::string out = n > 0 ? std::string(reinterpret_cast<char*>(der), n) : "";
  OPENSSL_free(der);
  ECDSA_SIG_free(ecdsa);
  return out;
}

bool Verify(EVP_PKEY* key, const std::string& alg, absl::string_view input,
            absl::string_view signature) {
  const int type = EVP_PKEY_base_id(key);
  const EVP_MD* md = alg.size() != 5              ? nullptr
                     : absl::EndsWith(alg, "256") ? EVP_sha256()
                     : absl::EndsWith(alg, "384") ? EVP_sha384()
                     : absl::EndsWith(alg, "512") ? EVP_sha512()
                                                  : nullptr;
  if (md == nullptr) return false;
  if (absl::StartsWith(alg, "PS")) {
    if (type != EVP_PKEY_RSA) return false;
    const crypto::PssHash hash = md == EVP_sha256() ? crypto::PssHash::kSha256
                                 : md == EVP_sha384()
                                     ? crypto::PssHash::kSha384
                                     : crypto::PssHash::kSha512;
    return crypto::VerifyRsaPss(*key, hash, input, signature).ok();
  }
  std::string der_signature(signature);
  if (absl::StartsWith(alg, "RS")) {
    if (type != EVP_PKEY_RSA) return false;
  } else if (absl::StartsWith(alg, "ES")) {
    if (type != EVP_PKEY_EC || alg == "ES512") return false;
    der_signature = JoseToDer(signature);
  } else {
    return false;
  }
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  return ctx != nullptr &&
         EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key) == 1 &&
         EVP_DigestVerify(
             ctx.get(),
             reinterpret_cast<const unsigned char*>(der_signature.data()),
             der_signature.size(),
             reinterpret_cast<const unsigned char*>(input.data()),
             input.size()) == 1;
}

}  // namespace

std::vector<std::string> CertificatesOfType(
    const std::vector<trellis::GtaCert>& certs, absl::string_view type) {
  std::vector<std::string> out;
  for (const trellis::GtaCert& cert : certs) {
    if (!cert.is_crl() && cert.valid_code() == 0 &&
        std::find(cert.types().begin(), cert.types().end(), type) !=
            cert.types().end()) {
      out.push_back(cert.der());
    }
  }
  return out;
}

absl::StatusOr<json> VerifySignedContent(
    const std::string& jws, const std::vector<std::string>& certificates_der) {
  const std::vector<absl::string_view> parts = absl::StrSplit(jws, '.');
  std::string header_text, payload_text, signature;
  if (parts.size() != 3 ||
      !absl::WebSafeBase64Unescape(parts[0], &header_text) ||
      !absl::WebSafeBase64Unescape(parts[1], &payload_text) ||
      !absl::WebSafeBase64Unescape(parts[2], &signature)) {
    return absl::InvalidArgumentError("the content is not a compact JWS");
  }
  const json header = json::parse(header_text, nullptr, false);
  json payload = json::parse(payload_text, nullptr, false);
  if (!header.is_object() || !payload.is_object()) {
    return absl::InvalidArgumentError(
        "the content is not a signed JSON object");
  }
  const auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) {
    return absl::InvalidArgumentError("the content's header lacks alg");
  }
  const std::string input = absl::StrCat(parts[0], ".", parts[1]);
  for (const std::string& der : certificates_der) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    std::unique_ptr<X509, X509Free> cert(
        d2i_X509(nullptr, &p, static_cast<long>(der.size())));
    if (cert == nullptr) continue;
    if (Verify(X509_get0_pubkey(cert.get()), alg->get<std::string>(), input,
               signature)) {
      return payload;
    }
  }
  return absl::InvalidArgumentError(
      "the content's signature verifies with none of your certificates of "
      "that type");
}

}  // namespace trellis::gta
