#include "attest/registrar/make_credential.h"

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"

namespace trellis::attest {
namespace {

std::string BigEndian32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>((v >> 16) & 0xff),
          static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
}

std::string Sized(absl::string_view bytes) {  // A TPM2B: uint16 size, bytes.
  return absl::StrCat(std::string{static_cast<char>(bytes.size() >> 8),
                                  static_cast<char>(bytes.size() & 0xff)},
                      bytes);
}

absl::StatusOr<std::string> Hmac(TPM2_ALG_ID hash, absl::string_view key,
                                 absl::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(tpm::TpmMd(hash), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(),
           out, &len) == nullptr) {
    return absl::InternalError("HMAC failed");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

// RSA-OAEP with the EK's name algorithm and the label "IDENTITY" (with its
// terminating zero, as the TPM uses it).
absl::StatusOr<std::string> EncryptSeed(const TPMT_PUBLIC& ek,
                                        absl::string_view seed) {
  absl::StatusOr<crypto::PrivateKey> key = tpm::ToOpenSslKey(ek);
  if (!key.ok()) return key.status();
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new(key->get(), nullptr), EVP_PKEY_CTX_free);
  static const char kLabel[] = "IDENTITY";
  unsigned char* label =
      static_cast<unsigned char*>(OPENSSL_memdup(kLabel, sizeof(kLabel)));
  if (ctx == nullptr || label == nullptr ||
      EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), tpm::TpmMd(ek.nameAlg)) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), tpm::TpmMd(ek.nameAlg)) != 1 ||
      EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), label, sizeof(kLabel)) != 1) {
    OPENSSL_free(label);
    return absl::InternalError("cannot set up RSA-OAEP");
  }
  size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(seed.data());
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, in, seed.size()) != 1) {
    return absl::InternalError("RSA-OAEP failed");
  }
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()),
                       &len, in, seed.size()) != 1) {
    return absl::InternalError("RSA-OAEP failed");
  }
  out.resize(len);
  return out;
}

absl::StatusOr<std::string> AesCfbEncrypt(absl::string_view key,
                                          absl::string_view plaintext) {
  const EVP_CIPHER* cipher = key.size() == 16   ? EVP_aes_128_cfb128()
                             : key.size() == 32 ? EVP_aes_256_cfb128()
                                                : nullptr;
  if (cipher == nullptr) return absl::InvalidArgumentError("bad AES key");
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(
      EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  const unsigned char iv[16] = {};  // The TPM uses a zero IV here.
  std::string out(plaintext.size(), '\0');
  int len = 0;
  if (ctx == nullptr ||
      EVP_EncryptInit_ex(ctx.get(), cipher, nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()),
                         iv) != 1 ||
      EVP_EncryptUpdate(
          ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
          reinterpret_cast<const unsigned char*>(plaintext.data()),
          static_cast<int>(plaintext.size())) != 1) {
    return absl::InternalError("AES-CFB failed");
  }
  return out;
}

// KDFe (TPM 2.0 Part 1, 11.4.10.3): counter-mode hashing of the ECDH
// shared secret `z` for `label` (with its zero octet) and the parties' x
// coordinates.
absl::StatusOr<std::string> KdfE(TPM2_ALG_ID hash, absl::string_view z,
                                 absl::string_view label,
                                 absl::string_view party_u,
                                 absl::string_view party_v, size_t bytes) {
  std::string out;
  for (uint32_t counter = 1; out.size() < bytes; ++counter) {
    absl::StatusOr<std::string> block = tpm::TpmHash(
        hash, absl::StrCat(BigEndian32(counter), z, label, std::string(1, '\0'),
                           party_u, party_v));
    if (!block.ok()) return block.status();
    out += *block;
  }
  out.resize(bytes);
  return out;
}

// The seed for an ECC EK: ECDH between a fresh key and the EK; the TPM
// recomputes it from the fresh public point, which is the encrypted secret.
struct EccSeed {
  std::string seed;
  std::string point;  // Marshalled TPMS_ECC_POINT of the fresh key.
};

absl::StatusOr<EccSeed> MakeEccSeed(const TPMT_PUBLIC& ek, size_t seed_bytes) {
  if (ek.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256) {
    return absl::UnimplementedError("only NIST P-256 ECC EKs are supported");
  }
  constexpr size_t kField = 32;
  absl::StatusOr<crypto::PrivateKey> ek_key = tpm::ToOpenSslKey(ek);
  if (!ek_key.ok()) return ek_key.status();
  crypto::PrivateKey ephemeral(EVP_EC_gen("P-256"));
  if (ephemeral == nullptr) return absl::InternalError("no EC key");
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new(ephemeral.get(), nullptr), EVP_PKEY_CTX_free);
  std::string z(kField, '\0');
  size_t z_len = z.size();
  if (ctx == nullptr || EVP_PKEY_derive_init(ctx.get()) != 1 ||
      EVP_PKEY_derive_set_peer(ctx.get(), ek_key->get()) != 1 ||
      EVP_PKEY_derive(ctx.get(), reinterpret_cast<unsigned char*>(z.data()),
                      &z_len) != 1 ||
      z_len != kField) {
    return absl::InternalError("ECDH with the EK failed");
  }
  unsigned char encoded[1 + 2 * kField];
  size_t encoded_len = 0;
  if (EVP_PKEY_get_octet_string_param(ephemeral.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                      encoded, sizeof(encoded),
                                      &encoded_len) != 1 ||
      encoded_len != sizeof(encoded) || encoded[0] != 0x04) {
    return absl::InternalError("cannot encode the ephemeral key");
  }
  const std::string x(reinterpret_cast<char*>(encoded + 1), kField);
  const std::string y(reinterpret_cast<char*>(encoded + 1 + kField), kField);
  const std::string ek_x(reinterpret_cast<const char*>(ek.unique.ecc.x.buffer),
                         ek.unique.ecc.x.size);
  absl::StatusOr<std::string> seed =
      KdfE(ek.nameAlg, z, "IDENTITY", x, ek_x, seed_bytes);
  if (!seed.ok()) return seed.status();
  return EccSeed{std::move(*seed), absl::StrCat(Sized(x), Sized(y))};
}

}  // namespace

absl::StatusOr<std::string> KdfA(TPM2_ALG_ID hash, absl::string_view key,
                                 absl::string_view label,
                                 absl::string_view context_u,
                                 absl::string_view context_v, int bits) {
  if (tpm::TpmMd(hash) == nullptr || bits <= 0 || bits % 8 != 0) {
    return absl::InvalidArgumentError("unsupported KDFa parameters");
  }
  std::string out;
  for (uint32_t counter = 1; out.size() * 8 < static_cast<size_t>(bits);
       ++counter) {
    // The label is used with its terminating zero octet.
    absl::StatusOr<std::string> block =
        Hmac(hash, key,
             absl::StrCat(BigEndian32(counter), label, std::string(1, '\0'),
                          context_u, context_v, BigEndian32(bits)));
    if (!block.ok()) return block.status();
    out += *block;
  }
  out.resize(bits / 8);
  return out;
}

absl::StatusOr<Credential> MakeCredential(const TPMT_PUBLIC& ek,
                                          absl::string_view ak_name,
                                          absl::string_view secret) {
  if (ek.type != TPM2_ALG_RSA && ek.type != TPM2_ALG_ECC) {
    return absl::InvalidArgumentError("EK must be an RSA or ECC key");
  }
  const TPMT_SYM_DEF_OBJECT& sym = ek.type == TPM2_ALG_RSA
                                       ? ek.parameters.rsaDetail.symmetric
                                       : ek.parameters.eccDetail.symmetric;
  if (sym.algorithm != TPM2_ALG_AES || sym.mode.aes != TPM2_ALG_CFB ||
      (sym.keyBits.aes != 128 && sym.keyBits.aes != 256)) {
    return absl::InvalidArgumentError(
        "EK must be a storage key with AES-CFB protection");
  }
  const size_t digest = tpm::DigestSize(ek.nameAlg);
  if (digest == 0 || secret.empty() || secret.size() > digest) {
    return absl::InvalidArgumentError(
        "credential secret must be 1 to digest-size bytes");
  }
  // The seed, and how the EK will recover it: RSA-OAEP of a random seed,
  // or the fresh public point of an ECDH exchange.
  std::string seed(digest, '\0');
  std::string encrypted_seed;
  if (ek.type == TPM2_ALG_RSA) {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()),
                   static_cast<int>(seed.size())) != 1) {
      return absl::InternalError("no randomness");
    }
    absl::StatusOr<std::string> encrypted = EncryptSeed(ek, seed);
    if (!encrypted.ok()) return encrypted.status();
    encrypted_seed = std::move(*encrypted);
  } else {
    absl::StatusOr<EccSeed> ecc = MakeEccSeed(ek, digest);
    if (!ecc.ok()) return ecc.status();
    seed = std::move(ecc->seed);
    encrypted_seed = std::move(ecc->point);
  }
  absl::StatusOr<std::string> sym_key =
      KdfA(ek.nameAlg, seed, "STORAGE", ak_name, "", sym.keyBits.aes);
  if (!sym_key.ok()) return sym_key.status();
  absl::StatusOr<std::string> enc_identity =
      AesCfbEncrypt(*sym_key, Sized(secret));
  if (!enc_identity.ok()) return enc_identity.status();
  absl::StatusOr<std::string> hmac_key =
      KdfA(ek.nameAlg, seed, "INTEGRITY", "", "", static_cast<int>(digest * 8));
  if (!hmac_key.ok()) return hmac_key.status();
  absl::StatusOr<std::string> outer_hmac =
      Hmac(ek.nameAlg, *hmac_key, absl::StrCat(*enc_identity, ak_name));
  if (!outer_hmac.ok()) return outer_hmac.status();
  return Credential{Sized(absl::StrCat(Sized(*outer_hmac), *enc_identity)),
                    Sized(encrypted_seed)};
}

}  // namespace trellis::attest
