#include "ca/jwt.h"

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <algorithm>
#include <memory>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crypto/keys.h"
#include "crypto/random.h"
#include "nlohmann/json.hpp"
#include "util/json_fields.h"

namespace trellis::ca {
namespace {

constexpr size_t kMaxTokenBytes = 16 * 1024;
constexpr size_t kKeyIdLength = 32;

struct Algorithm {
  const char* name;
  const EVP_MD* md;
  int ec_field_bytes;  // 0 for RSA.
};

// Digests fetched once (OpenSSL 3 looks implicit ones up on every use).
const EVP_MD* Sha256() {
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md;
}

absl::StatusOr<Algorithm> AlgorithmOf(EVP_PKEY* key) {
  static const EVP_MD* const sha384 =
      EVP_MD_fetch(nullptr, "SHA2-384", nullptr);
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_EC:
      switch (EVP_PKEY_get_bits(key)) {
        case 256:
          return Algorithm{"ES256", Sha256(), 32};
        case 384:
          return Algorithm{"ES384", sha384, 48};
        default:
          return absl::InvalidArgumentError("unsupported EC curve for JWTs");
      }
    case EVP_PKEY_RSA:
      return Algorithm{"RS256", Sha256(), 0};
    default:
      return absl::InvalidArgumentError("unsupported key type for JWTs");
  }
}

std::string Base64Url(absl::string_view bytes) {
  return absl::WebSafeBase64Escape(bytes);
}

// DER ECDSA-Sig-Value <-> JOSE's fixed-width r || s.
absl::StatusOr<std::string> DerToJose(absl::string_view der, int width) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
      d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(der.size())),
      ECDSA_SIG_free);
  if (sig == nullptr) return absl::InternalError("bad ECDSA signature");
  std::string out(2 * width, '\0');
  unsigned char* raw = reinterpret_cast<unsigned char*>(out.data());
  if (BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), raw, width) != width ||
      BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), raw + width, width) != width) {
    return absl::InternalError("bad ECDSA signature size");
  }
  return out;
}

absl::StatusOr<std::string> JoseToDer(absl::string_view jose, int width) {
  if (jose.size() != static_cast<size_t>(2 * width)) {
    return absl::UnauthenticatedError("JWT signature has the wrong length");
  }
  const auto* raw = reinterpret_cast<const unsigned char*>(jose.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(),
                                                            ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(raw, width, nullptr);
  BIGNUM* s = BN_bin2bn(raw + width, width, nullptr);
  if (sig == nullptr || r == nullptr || s == nullptr ||
      ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return absl::InternalError("cannot build an ECDSA signature");
  }
  unsigned char* der = nullptr;
  const int len = i2d_ECDSA_SIG(sig.get(), &der);
  if (len <= 0) return absl::InternalError("cannot encode a signature");
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

}  // namespace

std::string NewJwtKeyId() {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  const std::string random = crypto::RandomBytes(kKeyIdLength);
  std::string id;
  for (char c : random) {
    // 62 symbols: the slight bias of a modulo is irrelevant for an id.
    id.push_back(kAlphabet[static_cast<uint8_t>(c) % 62]);
  }
  return id;
}

absl::StatusOr<std::string> SignJwtSvid(absl::string_view key_der,
                                        absl::string_view key_id,
                                        const JwtSvidClaims& claims) {
  absl::StatusOr<crypto::PrivateKey> key = crypto::ParsePrivateKey(key_der);
  if (!key.ok()) return key.status();
  return SignJwtSvid(key->get(), key_id, claims);
}

absl::StatusOr<std::string> SignJwtSvid(EVP_PKEY* key, absl::string_view key_id,
                                        const JwtSvidClaims& claims) {
  if (claims.audiences.empty()) {
    return absl::InvalidArgumentError("a JWT-SVID needs an audience");
  }
  absl::StatusOr<Algorithm> alg = AlgorithmOf(key);
  if (!alg.ok()) return alg.status();
  const nlohmann::json header = {
      {"alg", alg->name}, {"kid", std::string(key_id)}, {"typ", "JWT"}};
  const nlohmann::json payload = {
      {"sub", claims.subject},
      {"aud", claims.audiences},
      {"exp", absl::ToUnixSeconds(claims.expires_at)},
      {"iat", absl::ToUnixSeconds(claims.issued_at)}};
  const std::string signing_input =
      absl::StrCat(Base64Url(header.dump()), ".", Base64Url(payload.dump()));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  size_t length = 0;
  if (ctx == nullptr ||
      EVP_DigestSignInit(ctx.get(), nullptr, alg->md, nullptr, key) != 1 ||
      EVP_DigestSign(
          ctx.get(), nullptr, &length,
          reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) != 1) {
    return absl::InternalError("cannot sign the JWT");
  }
  std::string signature(length, '\0');
  if (EVP_DigestSign(
          ctx.get(), reinterpret_cast<unsigned char*>(signature.data()),
          &length, reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) != 1) {
    return absl::InternalError("cannot sign the JWT");
  }
  signature.resize(length);
  if (alg->ec_field_bytes > 0) {
    absl::StatusOr<std::string> jose =
        DerToJose(signature, alg->ec_field_bytes);
    if (!jose.ok()) return jose.status();
    signature = std::move(*jose);
  }
  return absl::StrCat(signing_input, ".", Base64Url(signature));
}

absl::StatusOr<JwtSvidClaims> VerifyJwtSvid(
    absl::string_view token,
    const absl::flat_hash_map<std::string, std::string>& authorities,
    absl::string_view audience, absl::Time now) {
  if (token.size() > kMaxTokenBytes) {
    return absl::InvalidArgumentError("token is too long");
  }
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  std::string header_json, payload_json, signature;
  if (parts.size() != 3 ||
      !absl::WebSafeBase64Unescape(parts[0], &header_json) ||
      !absl::WebSafeBase64Unescape(parts[1], &payload_json) ||
      !absl::WebSafeBase64Unescape(parts[2], &signature)) {
    return absl::InvalidArgumentError("token is not a compact JWS");
  }
  const nlohmann::json header =
      nlohmann::json::parse(header_json, nullptr, /*allow_exceptions=*/false);
  const nlohmann::json payload =
      nlohmann::json::parse(payload_json, nullptr, /*allow_exceptions=*/false);
  if (!header.is_object() || !payload.is_object()) {
    return absl::InvalidArgumentError("token header or claims are not JSON");
  }
  absl::StatusOr<std::string> kid = json_fields::String(header, "kid");
  absl::StatusOr<std::string> alg_name = json_fields::String(header, "alg");
  if (!kid.ok() || !alg_name.ok()) {
    return absl::InvalidArgumentError("token header lacks kid or alg");
  }
  auto authority = authorities.find(*kid);
  if (authority == authorities.end()) {
    return absl::UnauthenticatedError("token's key is not in the bundle");
  }
  absl::StatusOr<crypto::PrivateKey> key =
      crypto::ParsePublicKey(authority->second);
  if (!key.ok()) return key.status();
  absl::StatusOr<Algorithm> alg = AlgorithmOf(key->get());
  if (!alg.ok()) return alg.status();
  if (*alg_name != alg->name) {
    return absl::UnauthenticatedError("token's alg does not match its key");
  }
  if (alg->ec_field_bytes > 0) {
    absl::StatusOr<std::string> der = JoseToDer(signature, alg->ec_field_bytes);
    if (!der.ok()) return der.status();
    signature = std::move(*der);
  }
  const std::string signing_input = absl::StrCat(parts[0], ".", parts[1]);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(),
                                                              EVP_MD_CTX_free);
  if (ctx == nullptr ||
      EVP_DigestVerifyInit(ctx.get(), nullptr, alg->md, nullptr, key->get()) !=
          1 ||
      EVP_DigestVerify(
          ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
          signature.size(),
          reinterpret_cast<const unsigned char*>(signing_input.data()),
          signing_input.size()) != 1) {
    return absl::UnauthenticatedError("token signature does not verify");
  }
  JwtSvidClaims claims;
  absl::StatusOr<std::string> sub = json_fields::String(payload, "sub");
  absl::StatusOr<int64_t> exp = json_fields::Integer(payload, "exp");
  auto iat = payload.find("iat");
  auto aud = payload.find("aud");
  if (!sub.ok() || !exp.ok() || aud == payload.end()) {
    return absl::InvalidArgumentError("token lacks sub, exp or aud");
  }
  claims.subject = *sub;
  claims.expires_at = absl::FromUnixSeconds(*exp);
  if (iat != payload.end() && iat->is_number_integer()) {
    claims.issued_at = absl::FromUnixSeconds(iat->get<int64_t>());
  }
  if (aud->is_string()) {
    claims.audiences.push_back(aud->get<std::string>());
  } else if (aud->is_array()) {
    for (const nlohmann::json& a : *aud) {
      if (a.is_string()) claims.audiences.push_back(a.get<std::string>());
    }
  }
  if (claims.expires_at <= now) {
    return absl::UnauthenticatedError("token has expired");
  }
  if (std::find(claims.audiences.begin(), claims.audiences.end(), audience) ==
      claims.audiences.end()) {
    return absl::UnauthenticatedError("token is not for this audience");
  }
  return claims;
}

}  // namespace trellis::ca
