#include "crypto/keys.h"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace trellis::crypto {
namespace {

constexpr int kDefaultRsaBits = 2048;
constexpr int kMaxRsaBits = 8192;

struct PkeyCtxDeleter {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
using PkeyCtx = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxDeleter>;

absl::StatusOr<PrivateKey> Generate(int type, int curve_nid, int rsa_bits,
                                    int rsa_primes = 2) {
  PkeyCtx ctx(EVP_PKEY_CTX_new_id(type, nullptr));
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1) {
    return absl::InternalError("key generation init: " + OpenSslError());
  }
  if (type == EVP_PKEY_EC &&
      EVP_PKEY_CTX_set_ec_paramgen_curve_nid(ctx.get(), curve_nid) != 1) {
    return absl::InternalError("set curve: " + OpenSslError());
  }
  if (type == EVP_PKEY_RSA &&
      EVP_PKEY_CTX_set_rsa_keygen_bits(ctx.get(), rsa_bits) != 1) {
    return absl::InternalError("set RSA bits: " + OpenSslError());
  }
  if (type == EVP_PKEY_RSA && rsa_primes != 2 &&
      EVP_PKEY_CTX_set_rsa_keygen_primes(ctx.get(), rsa_primes) != 1) {
    return absl::InternalError("set RSA primes: " + OpenSslError());
  }
  EVP_PKEY* key = nullptr;
  if (EVP_PKEY_keygen(ctx.get(), &key) != 1) {
    return absl::InternalError("key generation: " + OpenSslError());
  }
  return PrivateKey(key);
}

}  // namespace

std::string OpenSslError() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(code, buf, sizeof(buf));
  return buf;
}

absl::StatusOr<PrivateKey> GenerateRsaKey(int bits, int primes) {
  if (bits < kDefaultRsaBits || bits > kMaxRsaBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("RSA key size must be between ", kDefaultRsaBits, " and ",
                     kMaxRsaBits, " bits, got ", bits));
  }
  // OpenSSL's own cap: 2 primes below 1024 bits, 3 below 4096, 4 below 8192
  // (each prime stays far beyond factoring by ECM).
  const int max_primes = bits < 4096 ? 3 : bits < 8192 ? 4 : 5;
  if (primes < 2 || primes > max_primes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", bits, "-bit RSA key has 2 to ", max_primes,
                     " primes, not ", primes));
  }
  return Generate(EVP_PKEY_RSA, 0, bits, primes);
}

absl::StatusOr<PrivateKey> GenerateKey(const keyspb::Specification& spec) {
  switch (spec.params_case()) {
    case keyspb::Specification::kRsaParams: {
      int bits = spec.rsa_params().bits();
      if (bits == 0) bits = kDefaultRsaBits;
      if (bits < kDefaultRsaBits || bits > kMaxRsaBits) {
        return absl::InvalidArgumentError(
            absl::StrCat("RSA key size must be between ", kDefaultRsaBits,
                         " and ", kMaxRsaBits, " bits, got ", bits));
      }
      return Generate(EVP_PKEY_RSA, 0, bits);
    }
    case keyspb::Specification::kEd25519Params:
      return Generate(EVP_PKEY_ED25519, 0, 0);
    case keyspb::Specification::kEcdsaParams:
    case keyspb::Specification::PARAMS_NOT_SET: {
      int nid = NID_X9_62_prime256v1;
      switch (spec.ecdsa_params().curve()) {
        case keyspb::Specification::ECDSA::DEFAULT_CURVE:
        case keyspb::Specification::ECDSA::P256:
          break;
        case keyspb::Specification::ECDSA::P384:
          nid = NID_secp384r1;
          break;
        case keyspb::Specification::ECDSA::P521:
          nid = NID_secp521r1;
          break;
        default:
          return absl::InvalidArgumentError("unknown ECDSA curve");
      }
      return Generate(EVP_PKEY_EC, nid, 0);
    }
  }
  return absl::InvalidArgumentError("unknown key specification");
}

absl::StatusOr<std::string> MarshalPrivateKey(const EVP_PKEY& key) {
  unsigned char* der = nullptr;
  PKCS8_PRIV_KEY_INFO* p8 = EVP_PKEY2PKCS8(&key);
  if (p8 == nullptr) {
    return absl::InternalError("PKCS#8 encoding: " + OpenSslError());
  }
  const int len = i2d_PKCS8_PRIV_KEY_INFO(p8, &der);
  PKCS8_PRIV_KEY_INFO_free(p8);
  if (len <= 0) return absl::InternalError("PKCS#8 DER: " + OpenSslError());
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_clear_free(der, len);
  return out;
}

absl::StatusOr<PrivateKey> ParsePrivateKey(absl::string_view der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  EVP_PKEY* key = d2i_AutoPrivateKey(nullptr, &p, der.size());
  if (key == nullptr ||
      p != reinterpret_cast<const unsigned char*>(der.data() + der.size())) {
    EVP_PKEY_free(key);
    return absl::InvalidArgumentError("cannot parse DER private key: " +
                                      OpenSslError());
  }
  return PrivateKey(key);
}

absl::StatusOr<PrivateKey> ParsePrivateKeyPem(absl::string_view pem,
                                              absl::string_view password) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return absl::InternalError("BIO: " + OpenSslError());
  std::string pass(password);
  EVP_PKEY* key = PEM_read_bio_PrivateKey(
      bio, nullptr, nullptr,
      pass.empty() ? nullptr : const_cast<char*>(pass.c_str()));
  BIO_free(bio);
  if (key == nullptr) {
    return absl::InvalidArgumentError("cannot parse PEM private key: " +
                                      OpenSslError());
  }
  return PrivateKey(key);
}

absl::StatusOr<PrivateKey> ParsePublicKey(absl::string_view pem_or_der) {
  if (absl::StrContains(pem_or_der, "-----BEGIN")) {
    BIO* bio =
        BIO_new_mem_buf(pem_or_der.data(), static_cast<int>(pem_or_der.size()));
    if (bio == nullptr) return absl::InternalError("BIO: " + OpenSslError());
    EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (key == nullptr) {
      return absl::InvalidArgumentError("cannot parse PEM public key: " +
                                        OpenSslError());
    }
    return PrivateKey(key);
  }
  const auto* p = reinterpret_cast<const unsigned char*>(pem_or_der.data());
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, pem_or_der.size());
  if (key == nullptr || p != reinterpret_cast<const unsigned char*>(
                                 pem_or_der.data() + pem_or_der.size())) {
    EVP_PKEY_free(key);
    return absl::InvalidArgumentError("cannot parse DER public key: " +
                                      OpenSslError());
  }
  return PrivateKey(key);
}

absl::StatusOr<std::string> MarshalPublicKey(const EVP_PKEY& key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(&key, &der);
  if (len <= 0) return absl::InternalError("SPKI DER: " + OpenSslError());
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

absl::StatusOr<sigpb::DigitallySigned::SignatureAlgorithm> SignatureAlgorithmOf(
    const EVP_PKEY& key) {
  switch (EVP_PKEY_get_base_id(&key)) {
    case EVP_PKEY_EC:
      return sigpb::DigitallySigned::ECDSA;
    case EVP_PKEY_RSA:
      return sigpb::DigitallySigned::RSA;
    case EVP_PKEY_ED25519:
      return sigpb::DigitallySigned::ED25519;
    default:
      return absl::InvalidArgumentError(
          "key type is not ECDSA, RSA or Ed25519");
  }
}

}  // namespace trellis::crypto
