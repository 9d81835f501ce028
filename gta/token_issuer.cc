#include "gta/token_issuer.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crypto/random.h"

namespace trellis::gta {
namespace {

using nlohmann::json;

std::string Base64Url(absl::string_view bytes) {
  return absl::WebSafeBase64Escape(bytes);
}

absl::StatusOr<crypto::PssHash> HashOf(const std::string& algorithm) {
  if (algorithm == "PS256") return crypto::PssHash::kSha256;
  if (algorithm == "PS384") return crypto::PssHash::kSha384;
  if (algorithm == "PS512") return crypto::PssHash::kSha512;
  return absl::InvalidArgumentError(
      "the token algorithm must be PS256, PS384 or PS512");
}

// An RSA public key's parameter as base64url, big-endian, unpadded.
std::string RsaParam(const EVP_PKEY& key, const char* name) {
  BIGNUM* value = nullptr;
  if (!EVP_PKEY_get_bn_param(&key, name, &value)) return "";
  std::string bytes(BN_num_bytes(value), '\0');
  BN_bn2bin(value, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(value);
  return Base64Url(bytes);
}

}  // namespace

absl::StatusOr<std::unique_ptr<TokenIssuer>> TokenIssuer::Create(
    KeyRing* keys, TokenOptions options, Clock clock) {
  absl::StatusOr<crypto::PssHash> hash = HashOf(options.algorithm);
  if (!hash.ok()) return hash.status();
  if (options.lifetime <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("the token lifetime must be positive");
  }
  return std::unique_ptr<TokenIssuer>(
      new TokenIssuer(keys, std::move(options), *hash, std::move(clock)));
}

absl::StatusOr<std::string> TokenIssuer::Issue(json claims) {
  absl::StatusOr<SigningKey> tsk = keys_->Current(kTokenKey);
  if (!tsk.ok()) return tsk.status();
  const int64_t now = absl::ToUnixSeconds(clock_());
  claims["iat"] = now;
  claims["nbf"] = now;
  claims["exp"] = now + absl::ToInt64Seconds(options_.lifetime);
  claims["iss"] = options_.issuer;
  if (!claims.contains("jti")) claims["jti"] = crypto::RandomUuid();
  claims["ver"] = "1.0";
  if (!claims.contains("eat_profile")) claims["eat_profile"] = kEatProfile;
  json header = {
      {"typ", "JWT"}, {"alg", options_.algorithm}, {"kid", tsk->key_id()}};
  if (!options_.jku.empty()) header["jku"] = options_.jku;
  const std::string signing_input =
      absl::StrCat(Base64Url(header.dump()), ".", Base64Url(claims.dump()));
  absl::StatusOr<std::string> signature =
      crypto::SignRsaPss(*tsk->key, hash_, signing_input);
  if (!signature.ok()) return signature.status();
  return absl::StrCat(signing_input, ".", Base64Url(*signature));
}

absl::StatusOr<VerifiedToken> TokenIssuer::Verify(
    const std::string& token) const {
  const std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  std::string header_text, body_text, signature;
  if (parts.size() != 3 ||
      !absl::WebSafeBase64Unescape(parts[0], &header_text) ||
      !absl::WebSafeBase64Unescape(parts[1], &body_text) ||
      !absl::WebSafeBase64Unescape(parts[2], &signature)) {
    return absl::InvalidArgumentError("the token is not a compact JWS");
  }
  VerifiedToken out;
  out.header = json::parse(header_text, nullptr, false);
  out.body = json::parse(body_text, nullptr, false);
  if (!out.header.is_object() || !out.body.is_object()) {
    return absl::InvalidArgumentError("the token is not a JWT");
  }
  const auto alg = out.header.find("alg");
  const auto kid = out.header.find("kid");
  if (alg == out.header.end() || !alg->is_string() || kid == out.header.end() ||
      !kid->is_string()) {
    return absl::InvalidArgumentError("the token header lacks alg or kid");
  }
  absl::StatusOr<crypto::PssHash> hash = HashOf(alg->get<std::string>());
  if (!hash.ok()) return hash.status();
  const std::string signing_input = absl::StrCat(parts[0], ".", parts[1]);
  bool verified = false;
  for (const SigningKey& key : keys_->Verifying(kTokenKey)) {
    if (key.key_id() == kid->get<std::string>()) {
      verified =
          crypto::VerifyRsaPss(*key.key, *hash, signing_input, signature).ok();
      break;
    }
  }
  if (!verified) {
    return absl::InvalidArgumentError("the token signature does not verify");
  }
  const int64_t now = absl::ToUnixSeconds(clock_());
  const auto exp = out.body.find("exp");
  const auto nbf = out.body.find("nbf");
  if (exp == out.body.end() || !exp->is_number_integer() ||
      exp->get<int64_t>() <= now) {
    return absl::InvalidArgumentError("the token has expired");
  }
  if (nbf != out.body.end() &&
      (!nbf->is_number_integer() || nbf->get<int64_t>() > now)) {
    return absl::InvalidArgumentError("the token is not valid yet");
  }
  return out;
}

json TokenIssuer::Jwks() const {
  json keys = json::array();
  for (const SigningKey& key : keys_->Verifying(kTokenKey)) {
    keys.push_back({{"kty", "RSA"},
                    {"use", "sig"},
                    {"alg", options_.algorithm},
                    {"kid", key.key_id()},
                    {"n", RsaParam(*key.key, OSSL_PKEY_PARAM_RSA_N)},
                    {"e", RsaParam(*key.key, OSSL_PKEY_PARAM_RSA_E)}});
  }
  return {{"keys", keys}};
}

}  // namespace trellis::gta
