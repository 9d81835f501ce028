#include "crypto/signer.h"

#include <openssl/x509.h>

#include "absl/status/status.h"

namespace trellis::crypto {
namespace {

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

// Ed25519 signs the message itself; the others sign its SHA-256 digest.
const EVP_MD* DigestFor(const EVP_PKEY& key) {
  return EVP_PKEY_get_base_id(&key) == EVP_PKEY_ED25519 ? nullptr
                                                        : EVP_sha256();
}

}  // namespace

absl::StatusOr<std::string> Signer::Sign(absl::string_view message) const {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, DigestFor(*key_), nullptr,
                                 key_.get()) != 1) {
    return absl::InternalError("sign init: " + OpenSslError());
  }
  size_t len = 0;
  const auto* data = reinterpret_cast<const unsigned char*>(message.data());
  if (EVP_DigestSign(ctx.get(), nullptr, &len, data, message.size()) != 1) {
    return absl::InternalError("sign: " + OpenSslError());
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()),
                     &len, data, message.size()) != 1) {
    return absl::InternalError("sign: " + OpenSslError());
  }
  sig.resize(len);
  return sig;
}

absl::Status VerifySignature(absl::string_view public_key_der,
                             absl::string_view message,
                             absl::string_view signature) {
  const auto* p = reinterpret_cast<const unsigned char*>(public_key_der.data());
  PrivateKey key(d2i_PUBKEY(nullptr, &p, public_key_der.size()));
  if (!key) {
    return absl::InvalidArgumentError("cannot parse public key: " +
                                      OpenSslError());
  }
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, DigestFor(*key), nullptr,
                                   key.get()) != 1) {
    return absl::InvalidArgumentError("verify init: " + OpenSslError());
  }
  const int ok = EVP_DigestVerify(
      ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
      signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
      message.size());
  if (ok != 1) {
    OpenSslError();  // Drop the queued error; the verdict is what matters.
    return absl::FailedPreconditionError("signature does not verify");
  }
  return absl::OkStatus();
}

}  // namespace trellis::crypto
