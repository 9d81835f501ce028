#include "crypto/rsa_pss.h"

#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <memory>

namespace trellis::crypto {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

const EVP_MD* Md(PssHash hash) {
  switch (hash) {
    case PssHash::kSha384:
      return EVP_sha384();
    case PssHash::kSha512:
      return EVP_sha512();
    case PssHash::kSha256:
      break;
  }
  return EVP_sha256();
}

// A digest context for signing or verifying with PSS (salt = digest).
absl::StatusOr<MdCtx> PssContext(const EVP_PKEY& key, PssHash hash, bool sign) {
  if (EVP_PKEY_base_id(&key) != EVP_PKEY_RSA) {
    return absl::InvalidArgumentError("RSA-PSS needs an RSA key");
  }
  MdCtx ctx(EVP_MD_CTX_new());
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_PKEY* pkey = const_cast<EVP_PKEY*>(&key);
  const int init =
      sign ? EVP_DigestSignInit(ctx.get(), &pctx, Md(hash), nullptr, pkey)
           : EVP_DigestVerifyInit(ctx.get(), &pctx, Md(hash), nullptr, pkey);
  if (ctx == nullptr || init != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
    return absl::InternalError("RSA-PSS setup: " + OpenSslError());
  }
  return ctx;
}

}  // namespace

absl::StatusOr<std::string> SignRsaPss(const EVP_PKEY& key, PssHash hash,
                                       absl::string_view message) {
  absl::StatusOr<MdCtx> ctx = PssContext(key, hash, /*sign=*/true);
  if (!ctx.ok()) return ctx.status();
  size_t size = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx->get(), nullptr, &size, data, message.size()) != 1) {
    return absl::InternalError("RSA-PSS sign: " + OpenSslError());
  }
  std::string signature(size, '\0');
  if (EVP_DigestSign(ctx->get(),
                     reinterpret_cast<unsigned char*>(signature.data()), &size,
                     data, message.size()) != 1) {
    return absl::InternalError("RSA-PSS sign: " + OpenSslError());
  }
  signature.resize(size);
  return signature;
}

absl::Status VerifyRsaPss(const EVP_PKEY& key, PssHash hash,
                          absl::string_view message,
                          absl::string_view signature) {
  absl::StatusOr<MdCtx> ctx = PssContext(key, hash, /*sign=*/false);
  if (!ctx.ok()) return ctx.status();
  if (EVP_DigestVerify(ctx->get(),
                       reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1) {
    return absl::FailedPreconditionError("RSA-PSS signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace trellis::crypto
