#include "attest/tpm/keys.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstring>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attest/tpm/structures.h"
#include "crypto/digest.h"

namespace trellis::attest::tpm {
namespace {

std::string BigEndian16(uint16_t v) {
  return std::string{static_cast<char>(v >> 8), static_cast<char>(v & 0xff)};
}

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using ParamBuilder =
    std::unique_ptr<OSSL_PARAM_BLD,
                    Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using Params =
    std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using Bignum = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using PkeyCtx =
    std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

Bignum ToBignum(const uint8_t* bytes, size_t size) {
  return Bignum(BN_bin2bn(bytes, static_cast<int>(size), nullptr));
}

absl::StatusOr<crypto::PrivateKey> FromParams(const char* type,
                                              OSSL_PARAM_BLD* builder) {
  Params params(OSSL_PARAM_BLD_to_param(builder));
  PkeyCtx ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* key = nullptr;
  if (params == nullptr || ctx == nullptr ||
      EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) !=
          1) {
    return absl::InvalidArgumentError("TPM public key is not a valid key");
  }
  return crypto::PrivateKey(key);
}

absl::StatusOr<crypto::PrivateKey> RsaKey(const TPMT_PUBLIC& p) {
  const TPM2B_PUBLIC_KEY_RSA& n = p.unique.rsa;
  const uint32_t exponent = p.parameters.rsaDetail.exponent == 0
                                ? 65537
                                : p.parameters.rsaDetail.exponent;
  if (n.size * 8 != p.parameters.rsaDetail.keyBits) {
    return absl::InvalidArgumentError(
        absl::StrCat("RSA modulus of ", n.size * 8, " bits, key says ",
                     p.parameters.rsaDetail.keyBits));
  }
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  Bignum bn_n = ToBignum(n.buffer, n.size);
  Bignum bn_e(BN_new());
  if (builder == nullptr || bn_n == nullptr || bn_e == nullptr ||
      BN_set_word(bn_e.get(), exponent) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N,
                             bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E,
                             bn_e.get()) != 1) {
    return absl::ResourceExhaustedError("out of memory");
  }
  return FromParams("RSA", builder.get());
}

absl::StatusOr<crypto::PrivateKey> EccKey(const TPMT_PUBLIC& p) {
  const char* curve = nullptr;
  size_t field = 0;
  switch (p.parameters.eccDetail.curveID) {
    case TPM2_ECC_NIST_P256:
      curve = "prime256v1";
      field = 32;
      break;
    case TPM2_ECC_NIST_P384:
      curve = "secp384r1";
      field = 48;
      break;
    case TPM2_ECC_NIST_P521:
      curve = "secp521r1";
      field = 66;
      break;
    default:
      return absl::InvalidArgumentError(absl::StrFormat(
          "unsupported ECC curve 0x%x", p.parameters.eccDetail.curveID));
  }
  const TPMS_ECC_POINT& point = p.unique.ecc;
  if (point.x.size > field || point.y.size > field) {
    return absl::InvalidArgumentError("ECC point larger than its curve");
  }
  // Uncompressed point: 04 || x || y, each left-padded to the field size.
  std::string encoded(1 + 2 * field, '\0');
  encoded[0] = 0x04;
  std::memcpy(encoded.data() + 1 + field - point.x.size, point.x.buffer,
              point.x.size);
  std::memcpy(encoded.data() + 1 + 2 * field - point.y.size, point.y.buffer,
              point.y.size);
  ParamBuilder builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      curve, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                       encoded.data(), encoded.size()) != 1) {
    return absl::ResourceExhaustedError("out of memory");
  }
  return FromParams("EC", builder.get());
}

// r and s as a DER ECDSA-Sig-Value, the form OpenSSL verifies.
absl::StatusOr<std::string> EcdsaDer(const TPMS_SIGNATURE_ECC& sig) {
  ECDSA_SIG* ecdsa = ECDSA_SIG_new();
  BIGNUM* r = BN_bin2bn(sig.signatureR.buffer, sig.signatureR.size, nullptr);
  BIGNUM* s = BN_bin2bn(sig.signatureS.buffer, sig.signatureS.size, nullptr);
  if (ecdsa == nullptr || r == nullptr || s == nullptr ||
      ECDSA_SIG_set0(ecdsa, r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(ecdsa);
    return absl::ResourceExhaustedError("out of memory");
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(ecdsa, &der);
  ECDSA_SIG_free(ecdsa);
  if (len <= 0) return absl::InvalidArgumentError("bad ECDSA signature");
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

absl::StatusOr<std::string> TpmHash(TPM2_ALG_ID hash, absl::string_view data) {
  return TpmHash2(hash, data, "");
}

absl::StatusOr<std::string> TpmHash2(TPM2_ALG_ID hash, absl::string_view a,
                                     absl::string_view b) {
  // SHA-256, the hash of nearly everything here, takes the fast path.
  if (hash == TPM2_ALG_SHA256) {
    return crypto::Digest(crypto::DigestAlgorithm::kSha256, {a, b});
  }
  const EVP_MD* md = TpmMd(hash);
  if (md == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrFormat("unsupported hash algorithm 0x%x", hash));
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (ctx == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), out, &len) != 1) {
    return absl::InternalError("digest failed");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

absl::StatusOr<std::string> ObjectName(const TPMT_PUBLIC& public_area) {
  absl::StatusOr<std::string> digest =
      TpmHash(public_area.nameAlg, MarshalPublicArea(public_area));
  if (!digest.ok()) return digest.status();
  return BigEndian16(public_area.nameAlg) + *digest;
}

std::string HandleName(TPM2_HANDLE handle) {
  return std::string{static_cast<char>(handle >> 24),
                     static_cast<char>((handle >> 16) & 0xff),
                     static_cast<char>((handle >> 8) & 0xff),
                     static_cast<char>(handle & 0xff)};
}

absl::StatusOr<std::string> QualifiedName(const TPMT_PUBLIC& public_area,
                                          absl::string_view parent_qualified) {
  absl::StatusOr<std::string> name = ObjectName(public_area);
  if (!name.ok()) return name.status();
  absl::StatusOr<std::string> digest =
      TpmHash(public_area.nameAlg, absl::StrCat(parent_qualified, *name));
  if (!digest.ok()) return digest.status();
  return BigEndian16(public_area.nameAlg) + *digest;
}

const EVP_MD* TpmMd(TPM2_ALG_ID hash) {
  switch (hash) {
    case TPM2_ALG_SHA1:
      return EVP_sha1();
    case TPM2_ALG_SHA256:
      return EVP_sha256();
    case TPM2_ALG_SHA384:
      return EVP_sha384();
    case TPM2_ALG_SHA512:
      return EVP_sha512();
    default:
      return nullptr;
  }
}

absl::StatusOr<std::string> AkQualifiedName(const TPMT_PUBLIC& ek,
                                            const TPMT_PUBLIC& ak) {
  absl::StatusOr<std::string> ek_qn =
      QualifiedName(ek, HandleName(TPM2_RH_ENDORSEMENT));
  if (!ek_qn.ok()) return ek_qn.status();
  return QualifiedName(ak, *ek_qn);
}

absl::StatusOr<crypto::PrivateKey> ToOpenSslKey(
    const TPMT_PUBLIC& public_area) {
  switch (public_area.type) {
    case TPM2_ALG_RSA:
      return RsaKey(public_area);
    case TPM2_ALG_ECC:
      return EccKey(public_area);
    default:
      return absl::InvalidArgumentError("unsupported public key type");
  }
}

absl::StatusOr<std::string> PemToDer(absl::string_view pem) {
  std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  crypto::PrivateKey key(
      PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError("not a PEM public key");
  }
  return crypto::MarshalPublicKey(*key);
}

absl::StatusOr<std::string> ToPem(const TPMT_PUBLIC& public_area) {
  absl::StatusOr<crypto::PrivateKey> key = ToOpenSslKey(public_area);
  if (!key.ok()) return key.status();
  std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>> bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), key->get()) != 1) {
    return absl::InternalError("PEM encoding failed");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, len);
}

absl::Status VerifyTpmSignature(const EVP_PKEY& key,
                                const TPMT_SIGNATURE& signature,
                                absl::string_view data,
                                TPM2_ALG_ID expected_hash) {
  TPM2_ALG_ID hash;
  std::string sig;
  int padding = 0;
  switch (signature.sigAlg) {
    case TPM2_ALG_RSASSA:
    case TPM2_ALG_RSAPSS: {
      const TPMS_SIGNATURE_RSA& rsa = signature.signature.rsassa;
      hash = rsa.hash;
      sig.assign(reinterpret_cast<const char*>(rsa.sig.buffer), rsa.sig.size);
      padding = signature.sigAlg == TPM2_ALG_RSASSA ? RSA_PKCS1_PADDING
                                                    : RSA_PKCS1_PSS_PADDING;
      if (EVP_PKEY_get_base_id(&key) != EVP_PKEY_RSA) {
        return absl::InvalidArgumentError("RSA signature from a non-RSA key");
      }
      break;
    }
    case TPM2_ALG_ECDSA: {
      hash = signature.signature.ecdsa.hash;
      absl::StatusOr<std::string> der = EcdsaDer(signature.signature.ecdsa);
      if (!der.ok()) return der.status();
      sig = std::move(*der);
      if (EVP_PKEY_get_base_id(&key) != EVP_PKEY_EC) {
        return absl::InvalidArgumentError("ECDSA signature from a non-EC key");
      }
      break;
    }
    default:
      return absl::InvalidArgumentError("unsupported signature scheme");
  }
  if (hash != expected_hash) {
    return absl::FailedPreconditionError(
        absl::StrCat("signature made with ", HashName(hash), ", expected ",
                     HashName(expected_hash)));
  }
  absl::StatusOr<std::string> digest = TpmHash(hash, data);
  if (!digest.ok()) return digest.status();
  PkeyCtx ctx(EVP_PKEY_CTX_new(const_cast<EVP_PKEY*>(&key), nullptr));
  if (ctx == nullptr || EVP_PKEY_verify_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(ctx.get(), TpmMd(hash)) != 1 ||
      (padding != 0 && EVP_PKEY_CTX_set_rsa_padding(ctx.get(), padding) != 1) ||
      (padding == RSA_PKCS1_PSS_PADDING &&
       EVP_PKEY_CTX_set_rsa_pss_saltlen(ctx.get(), RSA_PSS_SALTLEN_AUTO) !=
           1)) {
    return absl::InternalError("cannot set up signature verification");
  }
  const int ok = EVP_PKEY_verify(
      ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
      reinterpret_cast<const unsigned char*>(digest->data()), digest->size());
  if (ok != 1) return absl::UnauthenticatedError("signature does not verify");
  return absl::OkStatus();
}

absl::Status CheckAttestationKey(const TPMT_PUBLIC& ak) {
  constexpr TPMA_OBJECT kRequired =
      TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT | TPMA_OBJECT_FIXEDTPM |
      TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_SENSITIVEDATAORIGIN;
  if ((ak.objectAttributes & kRequired) != kRequired) {
    return absl::InvalidArgumentError(
        "AK must be restricted, sign, fixedTPM, fixedParent and "
        "sensitiveDataOrigin");
  }
  if (ak.objectAttributes & TPMA_OBJECT_DECRYPT) {
    return absl::InvalidArgumentError("AK must not be a decryption key");
  }
  return absl::OkStatus();
}

TPMT_PUBLIC DefaultEkTemplate(bool ecc) {
  // TPM2_PolicySecret(TPM_RH_ENDORSEMENT).
  static constexpr uint8_t kEkPolicy[32] = {
      0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xb3, 0xf8, 0x1a, 0x90, 0xcc,
      0x8d, 0x46, 0xa5, 0xd7, 0x24, 0xfd, 0x52, 0xd7, 0x6e, 0x06, 0x52,
      0x0b, 0x64, 0xf2, 0xa1, 0xda, 0x1b, 0x33, 0x14, 0x69, 0xaa};
  TPMT_PUBLIC p{};
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN |
                       TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED |
                       TPMA_OBJECT_DECRYPT;
  p.authPolicy.size = sizeof(kEkPolicy);
  std::memcpy(p.authPolicy.buffer, kEkPolicy, sizeof(kEkPolicy));
  TPMT_SYM_DEF_OBJECT aes{};
  aes.algorithm = TPM2_ALG_AES;
  aes.keyBits.aes = 128;
  aes.mode.aes = TPM2_ALG_CFB;
  if (ecc) {
    p.type = TPM2_ALG_ECC;
    p.parameters.eccDetail.symmetric = aes;
    p.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
    p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
    p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
    p.unique.ecc.x.size = 32;
    p.unique.ecc.y.size = 32;
  } else {
    p.type = TPM2_ALG_RSA;
    p.parameters.rsaDetail.symmetric = aes;
    p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
    p.parameters.rsaDetail.keyBits = 2048;
    p.parameters.rsaDetail.exponent = 0;
    p.unique.rsa.size = 256;
  }
  return p;
}

namespace {

// `bn` big-endian, left-padded to `size` bytes; false if it does not fit.
bool PaddedBytes(const BIGNUM* bn, uint8_t* out, size_t size) {
  return bn != nullptr && BN_bn2binpad(bn, out, static_cast<int>(size)) ==
                              static_cast<int>(size);
}

}  // namespace

absl::StatusOr<TPMT_PUBLIC> DefaultEkPublicArea(const EVP_PKEY& key) {
  switch (EVP_PKEY_get_base_id(&key)) {
    case EVP_PKEY_RSA: {
      TPMT_PUBLIC p = DefaultEkTemplate(false);
      BIGNUM* n = nullptr;
      BIGNUM* e = nullptr;
      EVP_PKEY_get_bn_param(&key, OSSL_PKEY_PARAM_RSA_N, &n);
      EVP_PKEY_get_bn_param(&key, OSSL_PKEY_PARAM_RSA_E, &e);
      Bignum modulus(n), exponent(e);
      if (exponent == nullptr || !BN_is_word(exponent.get(), 65537) ||
          !PaddedBytes(modulus.get(), p.unique.rsa.buffer, 256) ||
          BN_num_bits(modulus.get()) != 2048) {
        return absl::InvalidArgumentError(
            "an RSA EK must be 2048 bits with exponent 65537");
      }
      return p;
    }
    case EVP_PKEY_EC: {
      TPMT_PUBLIC p = DefaultEkTemplate(true);
      char group[32] = {};
      BIGNUM* x = nullptr;
      BIGNUM* y = nullptr;
      EVP_PKEY_get_utf8_string_param(&key, OSSL_PKEY_PARAM_GROUP_NAME, group,
                                     sizeof(group), nullptr);
      EVP_PKEY_get_bn_param(&key, OSSL_PKEY_PARAM_EC_PUB_X, &x);
      EVP_PKEY_get_bn_param(&key, OSSL_PKEY_PARAM_EC_PUB_Y, &y);
      Bignum bx(x), by(y);
      if (std::string(group) != "prime256v1" ||
          !PaddedBytes(bx.get(), p.unique.ecc.x.buffer, 32) ||
          !PaddedBytes(by.get(), p.unique.ecc.y.buffer, 32)) {
        return absl::InvalidArgumentError("an ECC EK must be NIST P-256");
      }
      return p;
    }
    default:
      return absl::InvalidArgumentError("an EK must be an RSA or ECC key");
  }
}

absl::Status CheckEndorsementKey(const TPMT_PUBLIC& ek) {
  constexpr TPMA_OBJECT kRequired =
      TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_RESTRICTED |
      TPMA_OBJECT_DECRYPT;
  if ((ek.objectAttributes & kRequired) != kRequired ||
      (ek.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT)) {
    return absl::InvalidArgumentError(
        "EK must be a fixedTPM, restricted decryption key");
  }
  return absl::OkStatus();
}

}  // namespace trellis::attest::tpm
