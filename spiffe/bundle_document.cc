#include "spiffe/bundle_document.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>

#include <cstring>
#include <limits>
#include <memory>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace trellis::spiffe {
namespace {

using Json = nlohmann::json;

template <typename T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr =
    std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using ParamBldPtr =
    std::unique_ptr<OSSL_PARAM_BLD,
                    Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr =
    std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

constexpr char kX509SvidUse[] = "x509-svid";
constexpr char kJwtSvidUse[] = "jwt-svid";
constexpr size_t kEd25519KeyBytes = 32;
// OpenSSL's own ceiling (OPENSSL_RSA_MAX_MODULUS_BITS); verifiers refuse
// larger moduli, and they would make key validation slow.
constexpr int kMaxRsaModulusBits = 16384;

struct Curve {
  const char* jwk_name;
  const char* openssl_name;
  size_t coordinate_bytes;
};
constexpr Curve kCurves[] = {
    {"P-256", SN_X9_62_prime256v1, 32},
    {"P-384", SN_secp384r1, 48},
    {"P-521", SN_secp521r1, 66},
};

absl::Status Invalid(absl::string_view message) {
  return absl::InvalidArgumentError(message);
}

const unsigned char* Bytes(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// dump() throws on strings that are not UTF-8; its lenient error handlers
// give the same text exactly when there is nothing to drop or replace.
bool IsUtf8(const std::string& s) {
  const Json j = s;
  return j.dump(-1, ' ', false, Json::error_handler_t::ignore) ==
         j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

// The big-endian bytes of a key parameter, left-padded to `size`, or as few
// as hold it when `size` is 0.
absl::StatusOr<std::string> BignumBytes(const EVP_PKEY* key, const char* param,
                                        int size) {
  BIGNUM* raw = nullptr;
  if (EVP_PKEY_get_bn_param(key, param, &raw) != 1) {
    return Invalid(absl::StrCat("key has no ", param, " parameter"));
  }
  const BignumPtr bn(raw);
  if (size == 0) size = BN_num_bytes(bn.get());
  std::string out(size, '\0');
  if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char*>(out.data()),
                   size) != size) {
    return Invalid(absl::StrCat("key parameter ", param, " is too large"));
  }
  return out;
}

// The JWK members (kty and its parameters) describing `key`.
absl::StatusOr<Json> KeyToJwk(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "EC")) {
    char group[64];
    size_t group_len = 0;
    if (EVP_PKEY_get_group_name(key, group, sizeof(group), &group_len) != 1) {
      return Invalid("EC key has no named curve");
    }
    for (const Curve& curve : kCurves) {
      if (std::strcmp(group, curve.openssl_name) != 0) continue;
      const int size = static_cast<int>(curve.coordinate_bytes);
      absl::StatusOr<std::string> x =
          BignumBytes(key, OSSL_PKEY_PARAM_EC_PUB_X, size);
      if (!x.ok()) return x.status();
      absl::StatusOr<std::string> y =
          BignumBytes(key, OSSL_PKEY_PARAM_EC_PUB_Y, size);
      if (!y.ok()) return y.status();
      return Json{{"kty", "EC"},
                  {"crv", curve.jwk_name},
                  {"x", absl::WebSafeBase64Escape(*x)},
                  {"y", absl::WebSafeBase64Escape(*y)}};
    }
    return Invalid(absl::StrCat("EC curve ", group, " is not supported"));
  }
  if (EVP_PKEY_is_a(key, "RSA")) {
    absl::StatusOr<std::string> n = BignumBytes(key, OSSL_PKEY_PARAM_RSA_N, 0);
    if (!n.ok()) return n.status();
    absl::StatusOr<std::string> e = BignumBytes(key, OSSL_PKEY_PARAM_RSA_E, 0);
    if (!e.ok()) return e.status();
    return Json{{"kty", "RSA"},
                {"n", absl::WebSafeBase64Escape(*n)},
                {"e", absl::WebSafeBase64Escape(*e)}};
  }
  if (EVP_PKEY_is_a(key, "ED25519")) {
    std::string x(kEd25519KeyBytes, '\0');
    size_t x_len = 0;
    if (EVP_PKEY_get_octet_string_param(
            key, OSSL_PKEY_PARAM_PUB_KEY,
            reinterpret_cast<unsigned char*>(x.data()), x.size(),
            &x_len) != 1 ||
        x_len != kEd25519KeyBytes) {
      return Invalid("Ed25519 key has no public key");
    }
    return Json{{"kty", "OKP"},
                {"crv", "Ed25519"},
                {"x", absl::WebSafeBase64Escape(x)}};
  }
  const char* type = EVP_PKEY_get0_type_name(key);
  return Invalid(absl::StrCat("key type ", type == nullptr ? "unknown" : type,
                              " is not supported"));
}

absl::StatusOr<PkeyPtr> ParsePublicKeyDer(const std::string& der) {
  const unsigned char* p = Bytes(der);
  PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  if (key == nullptr || p != Bytes(der) + der.size()) {
    return Invalid("not a DER SubjectPublicKeyInfo");
  }
  return key;
}

absl::StatusOr<X509Ptr> ParseCertificateDer(const std::string& der) {
  const unsigned char* p = Bytes(der);
  X509Ptr cert(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (cert == nullptr || p != Bytes(der) + der.size()) {
    return Invalid("not a DER certificate");
  }
  return cert;
}

const Json* Find(const Json& object, const char* name) {
  const auto it = object.find(name);
  return it == object.end() ? nullptr : &*it;
}

absl::StatusOr<std::string> RequiredString(const Json& object,
                                           const char* name) {
  const Json* value = Find(object, name);
  if (value == nullptr || !value->is_string()) {
    return Invalid(absl::StrCat("\"", name, "\" must be a string"));
  }
  return value->get<std::string>();
}

// JWK key parameters are base64url without padding (RFC 7518 section 6).
// absl also accepts padding, whitespace and stray low bits, so only the
// canonical spelling is let through.
absl::StatusOr<std::string> Base64UrlMember(const Json& jwk, const char* name) {
  absl::StatusOr<std::string> text = RequiredString(jwk, name);
  if (!text.ok()) return text.status();
  std::string bytes;
  if (text->empty() || !absl::WebSafeBase64Unescape(*text, &bytes) ||
      absl::WebSafeBase64Escape(bytes) != *text) {
    return Invalid(
        absl::StrCat("\"", name, "\" is not unpadded base64url of a value"));
  }
  return bytes;
}

// Builds a public key from provider parameters and checks it as OpenSSL
// would before trusting it (for EC: on the curve and in the prime subgroup).
absl::StatusOr<PkeyPtr> KeyFromParams(const char* type,
                                      OSSL_PARAM_BLD* builder) {
  const ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  const PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* raw = nullptr;
  if (params == nullptr || ctx == nullptr ||
      EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params.get()) !=
          1) {
    return Invalid(
        absl::StrCat("parameters do not form a valid ", type, " public key"));
  }
  PkeyPtr key(raw);
  const PkeyCtxPtr check(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (check == nullptr || EVP_PKEY_public_check(check.get()) != 1) {
    return Invalid(
        absl::StrCat("parameters do not form a valid ", type, " public key"));
  }
  return key;
}

absl::StatusOr<PkeyPtr> EcJwkToKey(const Json& jwk) {
  absl::StatusOr<std::string> crv = RequiredString(jwk, "crv");
  if (!crv.ok()) return crv.status();
  const Curve* curve = nullptr;
  for (const Curve& c : kCurves) {
    if (*crv == c.jwk_name) curve = &c;
  }
  if (curve == nullptr) {
    return Invalid(absl::StrCat("EC curve \"", absl::CHexEscape(*crv),
                                "\" is not supported"));
  }
  absl::StatusOr<std::string> x = Base64UrlMember(jwk, "x");
  if (!x.ok()) return x.status();
  absl::StatusOr<std::string> y = Base64UrlMember(jwk, "y");
  if (!y.ok()) return y.status();
  // RFC 7518 section 6.2.1.2: coordinates are always the full field size.
  if (x->size() != curve->coordinate_bytes ||
      y->size() != curve->coordinate_bytes) {
    return Invalid(absl::StrCat("\"x\" and \"y\" must be ",
                                curve->coordinate_bytes, " bytes for ",
                                curve->jwk_name));
  }
  const std::string point = absl::StrCat("\x04", *x, *y);  // Uncompressed.
  const ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME,
                                      curve->openssl_name, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                       point.data(), point.size()) != 1) {
    return absl::InternalError("cannot build EC key parameters");
  }
  return KeyFromParams("EC", builder.get());
}

absl::StatusOr<PkeyPtr> RsaJwkToKey(const Json& jwk) {
  absl::StatusOr<std::string> n_bytes = Base64UrlMember(jwk, "n");
  if (!n_bytes.ok()) return n_bytes.status();
  absl::StatusOr<std::string> e_bytes = Base64UrlMember(jwk, "e");
  if (!e_bytes.ok()) return e_bytes.status();
  const BignumPtr n(
      BN_bin2bn(Bytes(*n_bytes), static_cast<int>(n_bytes->size()), nullptr));
  const BignumPtr e(
      BN_bin2bn(Bytes(*e_bytes), static_cast<int>(e_bytes->size()), nullptr));
  if (n == nullptr || e == nullptr) {
    return absl::InternalError("cannot allocate RSA parameters");
  }
  // OpenSSL's public key check looks at little beyond presence, so the
  // basic shape of a public key is checked here.
  if (BN_num_bits(n.get()) > kMaxRsaModulusBits) {
    return Invalid(absl::StrCat("RSA modulus is longer than ",
                                kMaxRsaModulusBits, " bits"));
  }
  if (!BN_is_odd(n.get()) || !BN_is_odd(e.get()) || BN_is_one(e.get()) ||
      BN_cmp(e.get(), n.get()) >= 0) {
    return Invalid("\"n\" and \"e\" do not form an RSA public key");
  }
  const ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) !=
          1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) !=
          1) {
    return absl::InternalError("cannot build RSA key parameters");
  }
  return KeyFromParams("RSA", builder.get());
}

absl::StatusOr<PkeyPtr> OkpJwkToKey(const Json& jwk) {
  absl::StatusOr<std::string> crv = RequiredString(jwk, "crv");
  if (!crv.ok()) return crv.status();
  if (*crv != "Ed25519") {
    return Invalid(absl::StrCat("OKP curve \"", absl::CHexEscape(*crv),
                                "\" is not supported"));
  }
  absl::StatusOr<std::string> x = Base64UrlMember(jwk, "x");
  if (!x.ok()) return x.status();
  if (x->size() != kEd25519KeyBytes) {
    return Invalid(
        absl::StrCat("\"x\" must be ", kEd25519KeyBytes, " bytes for Ed25519"));
  }
  const ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (builder == nullptr ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY,
                                       x->data(), x->size()) != 1) {
    return absl::InternalError("cannot build Ed25519 key parameters");
  }
  return KeyFromParams("ED25519", builder.get());
}

absl::StatusOr<PkeyPtr> JwkToKey(const Json& jwk) {
  absl::StatusOr<std::string> kty = RequiredString(jwk, "kty");
  if (!kty.ok()) return kty.status();
  if (*kty == "EC") return EcJwkToKey(jwk);
  if (*kty == "RSA") return RsaJwkToKey(jwk);
  if (*kty == "OKP") return OkpJwkToKey(jwk);
  return Invalid(absl::StrCat("key type \"", absl::CHexEscape(*kty),
                              "\" is not supported"));
}

absl::StatusOr<std::string> DecodeX509Authority(const Json& jwk) {
  const Json* x5c = Find(jwk, "x5c");
  if (x5c == nullptr || !x5c->is_array() || x5c->size() != 1 ||
      !x5c->front().is_string()) {
    return Invalid("\"x5c\" must be an array of exactly one string");
  }
  // RFC 7517 section 4.7: standard base64 with padding; canonical only.
  const std::string& text = x5c->front().get_ref<const std::string&>();
  std::string der;
  if (!absl::Base64Unescape(text, &der) || absl::Base64Escape(der) != text) {
    return Invalid("\"x5c\" entry is not base64");
  }
  absl::StatusOr<X509Ptr> cert = ParseCertificateDer(der);
  if (!cert.ok()) {
    return Invalid(absl::StrCat("\"x5c\" entry: ", cert.status().message()));
  }
  if (Find(jwk, "kty") != nullptr) {
    absl::StatusOr<PkeyPtr> key = JwkToKey(jwk);
    if (!key.ok()) return key.status();
    const EVP_PKEY* cert_key = X509_get0_pubkey(cert->get());
    if (cert_key == nullptr || EVP_PKEY_eq(cert_key, key->get()) != 1) {
      return Invalid("key parameters do not match the \"x5c\" certificate");
    }
  }
  return der;
}

absl::StatusOr<JwtAuthority> DecodeJwtAuthority(const Json& jwk) {
  absl::StatusOr<std::string> kid = RequiredString(jwk, "kid");
  if (!kid.ok()) return kid.status();
  if (kid->empty()) return Invalid("\"kid\" must not be empty");
  absl::StatusOr<PkeyPtr> key = JwkToKey(jwk);
  if (!key.ok()) return key.status();
  unsigned char* der = nullptr;
  const int der_len = i2d_PUBKEY(key->get(), &der);
  if (der_len <= 0) return absl::InternalError("cannot encode public key");
  JwtAuthority authority{*std::move(kid),
                         std::string(reinterpret_cast<char*>(der), der_len)};
  OPENSSL_free(der);
  return authority;
}

// A non-negative integer member that fits `T`, or 0 when it is absent.
template <typename T>
absl::StatusOr<T> OptionalCount(const Json& object, const char* name) {
  const Json* value = Find(object, name);
  if (value == nullptr) return T{0};
  // nlohmann stores every non-negative integer literal as unsigned.
  if (!value->is_number_unsigned() ||
      value->get<uint64_t>() >
          static_cast<uint64_t>(std::numeric_limits<T>::max())) {
    return Invalid(
        absl::StrCat("\"", name, "\" must be a non-negative integer"));
  }
  return static_cast<T>(value->get<uint64_t>());
}

absl::Status AtKey(size_t index, const absl::Status& status) {
  return absl::Status(status.code(),
                      absl::StrCat("keys[", index, "]: ", status.message()));
}

absl::StatusOr<std::string> Encode(const BundleDocument& bundle) {
  if (bundle.refresh_hint_seconds < 0) {
    return Invalid("refresh hint must not be negative");
  }
  if (bundle.x509_authorities.size() + bundle.jwt_authorities.size() >
      kMaxBundleKeys) {
    return Invalid(absl::StrCat("a bundle holds at most ", kMaxBundleKeys,
                                " authorities"));
  }
  Json keys = Json::array();
  for (size_t i = 0; i < bundle.x509_authorities.size(); ++i) {
    const std::string& der = bundle.x509_authorities[i];
    absl::StatusOr<X509Ptr> cert = ParseCertificateDer(der);
    if (!cert.ok()) {
      return Invalid(
          absl::StrCat("x509_authorities[", i, "]: ", cert.status().message()));
    }
    const EVP_PKEY* cert_key = X509_get0_pubkey(cert->get());
    if (cert_key == nullptr) {
      return Invalid(absl::StrCat("x509_authorities[", i,
                                  "]: certificate key cannot be read"));
    }
    absl::StatusOr<Json> jwk = KeyToJwk(cert_key);
    if (!jwk.ok()) {
      return Invalid(
          absl::StrCat("x509_authorities[", i, "]: ", jwk.status().message()));
    }
    (*jwk)["use"] = kX509SvidUse;
    (*jwk)["x5c"] = Json::array({absl::Base64Escape(der)});
    keys.push_back(*std::move(jwk));
  }
  std::set<std::string> key_ids;
  for (size_t i = 0; i < bundle.jwt_authorities.size(); ++i) {
    const JwtAuthority& authority = bundle.jwt_authorities[i];
    const std::string where = absl::StrCat("jwt_authorities[", i, "]: ");
    if (authority.key_id.empty() || !IsUtf8(authority.key_id)) {
      return Invalid(absl::StrCat(where, "key ID must be non-empty UTF-8"));
    }
    if (!key_ids.insert(authority.key_id).second) {
      return Invalid(absl::StrCat(where, "duplicate key ID \"",
                                  absl::CHexEscape(authority.key_id), "\""));
    }
    absl::StatusOr<PkeyPtr> key = ParsePublicKeyDer(authority.public_key_der);
    if (!key.ok()) return Invalid(absl::StrCat(where, key.status().message()));
    absl::StatusOr<Json> jwk = KeyToJwk(key->get());
    if (!jwk.ok()) return Invalid(absl::StrCat(where, jwk.status().message()));
    (*jwk)["use"] = kJwtSvidUse;
    (*jwk)["kid"] = authority.key_id;
    keys.push_back(*std::move(jwk));
  }
  Json document = {{"keys", std::move(keys)},
                   {"spiffe_sequence", bundle.sequence}};
  if (bundle.refresh_hint_seconds != 0) {
    document["spiffe_refresh_hint"] = bundle.refresh_hint_seconds;
  }
  std::string text = document.dump();
  if (text.size() > kMaxBundleDocumentBytes) {
    return Invalid(absl::StrCat("bundle document is larger than ",
                                kMaxBundleDocumentBytes, " bytes"));
  }
  return text;
}

absl::StatusOr<BundleDocument> Decode(absl::string_view json_text) {
  if (json_text.size() > kMaxBundleDocumentBytes) {
    return Invalid(absl::StrCat("bundle document is larger than ",
                                kMaxBundleDocumentBytes, " bytes"));
  }
  const Json document =
      Json::parse(json_text.begin(), json_text.end(), nullptr, false);
  if (document.is_discarded() || !document.is_object()) {
    return Invalid("bundle document is not a JSON object");
  }
  const Json* keys = Find(document, "keys");
  if (keys == nullptr || !keys->is_array()) {
    return Invalid("bundle document has no \"keys\" array");
  }
  if (keys->size() > kMaxBundleKeys) {
    return Invalid(absl::StrCat("bundle document has more than ",
                                kMaxBundleKeys, " keys"));
  }
  BundleDocument bundle;
  absl::StatusOr<uint64_t> sequence =
      OptionalCount<uint64_t>(document, "spiffe_sequence");
  if (!sequence.ok()) return sequence.status();
  bundle.sequence = *sequence;
  absl::StatusOr<int64_t> refresh_hint =
      OptionalCount<int64_t>(document, "spiffe_refresh_hint");
  if (!refresh_hint.ok()) return refresh_hint.status();
  bundle.refresh_hint_seconds = *refresh_hint;

  std::set<std::string> key_ids;
  size_t i = 0;
  for (const Json& jwk : *keys) {
    if (!jwk.is_object()) return AtKey(i, Invalid("key is not an object"));
    absl::StatusOr<std::string> use = RequiredString(jwk, "use");
    if (!use.ok()) return AtKey(i, use.status());
    if (*use == kX509SvidUse) {
      absl::StatusOr<std::string> der = DecodeX509Authority(jwk);
      if (!der.ok()) return AtKey(i, der.status());
      bundle.x509_authorities.push_back(*std::move(der));
    } else if (*use == kJwtSvidUse) {
      absl::StatusOr<JwtAuthority> authority = DecodeJwtAuthority(jwk);
      if (!authority.ok()) return AtKey(i, authority.status());
      // Verifiers pick JWT authorities by kid, so it must be unambiguous.
      if (!key_ids.insert(authority->key_id).second) {
        return AtKey(i, Invalid(absl::StrCat(
                            "duplicate \"kid\" \"",
                            absl::CHexEscape(authority->key_id), "\"")));
      }
      bundle.jwt_authorities.push_back(*std::move(authority));
    }
    ++i;
  }
  return bundle;
}

}  // namespace

// Failed OpenSSL calls leave errors on the thread's queue; drop them so they
// are not mistaken later for errors of unrelated TLS or crypto calls.
absl::StatusOr<std::string> EncodeBundle(const BundleDocument& bundle) {
  absl::StatusOr<std::string> text = Encode(bundle);
  if (!text.ok()) ERR_clear_error();
  return text;
}

absl::StatusOr<BundleDocument> DecodeBundle(absl::string_view json_text) {
  absl::StatusOr<BundleDocument> bundle = Decode(json_text);
  if (!bundle.ok()) ERR_clear_error();
  return bundle;
}

}  // namespace trellis::spiffe
