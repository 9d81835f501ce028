#include "spiffe/bundle_document.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace trellis::spiffe {
namespace {

using ::nlohmann::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::SizeIs;

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BnFree {
  void operator()(BIGNUM* p) const { BN_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using X509Ptr = std::unique_ptr<X509, X509Free>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;

// From RFC 7517 appendix A.1, with the SPIFFE "use".
constexpr char kRfcX[] = "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4";
constexpr char kRfcY[] = "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM";

PkeyPtr Generate(const std::string& kind) {
  if (kind == "RSA") return PkeyPtr(EVP_RSA_gen(2048));
  if (kind == "ED25519") {
    return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  }
  if (kind == "ED448") {
    return PkeyPtr(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
  }
  return PkeyPtr(EVP_EC_gen(kind.c_str()));
}

std::string PublicKeyDer(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  EXPECT_GT(len, 0);
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

std::string SelfSignedCertDer(EVP_PKEY* key) {
  X509Ptr cert(X509_new());
  EXPECT_EQ(X509_set_version(cert.get(), X509_VERSION_3), 1);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("test"), -1,
                             -1, 0);
  EXPECT_EQ(X509_set_issuer_name(cert.get(), name), 1);
  EXPECT_EQ(X509_set_pubkey(cert.get(), key), 1);
  // EdDSA signs without a separate digest.
  const EVP_MD* md =
      EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")
          ? nullptr
          : EVP_sha256();
  EXPECT_GT(X509_sign(cert.get(), key, md), 0);
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  EXPECT_GT(len, 0);
  std::string out(reinterpret_cast<char*>(der), len);
  OPENSSL_free(der);
  return out;
}

json EncodeToJson(const BundleDocument& bundle) {
  absl::StatusOr<std::string> text = EncodeBundle(bundle);
  EXPECT_TRUE(text.ok()) << text.status();
  return json::parse(text.value_or("{}"));
}

std::string Base64UrlDecode(const std::string& text) {
  std::string out;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(text, &out)) << text;
  return out;
}

std::string RfcJwk(const std::string& x, const std::string& y) {
  return absl::StrCat(R"({"kty":"EC","crv":"P-256","x":")", x, R"(","y":")", y,
                      R"(","use":"jwt-svid","kid":"1"})");
}

std::string Document(const std::string& key) {
  return absl::StrCat(R"({"keys":[)", key, "]}");
}

TEST(BundleDocumentTest, JwtAuthoritiesRoundTrip) {
  BundleDocument bundle;
  for (const char* kind : {"P-256", "P-384", "P-521", "RSA", "ED25519"}) {
    PkeyPtr key = Generate(kind);
    ASSERT_NE(key, nullptr) << kind;
    bundle.jwt_authorities.push_back(
        {absl::StrCat("kid-", kind), PublicKeyDer(key.get())});
  }
  bundle.sequence = 42;
  bundle.refresh_hint_seconds = 300;

  absl::StatusOr<std::string> text = EncodeBundle(bundle);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<BundleDocument> decoded = DecodeBundle(*text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();

  EXPECT_THAT(decoded->x509_authorities, IsEmpty());
  ASSERT_THAT(decoded->jwt_authorities, SizeIs(bundle.jwt_authorities.size()));
  for (size_t i = 0; i < bundle.jwt_authorities.size(); ++i) {
    EXPECT_EQ(decoded->jwt_authorities[i].key_id,
              bundle.jwt_authorities[i].key_id);
    EXPECT_EQ(decoded->jwt_authorities[i].public_key_der,
              bundle.jwt_authorities[i].public_key_der)
        << bundle.jwt_authorities[i].key_id;
  }
  EXPECT_EQ(decoded->sequence, 42u);
  EXPECT_EQ(decoded->refresh_hint_seconds, 300);
}

TEST(BundleDocumentTest, X509AuthoritiesRoundTrip) {
  BundleDocument bundle;
  for (const char* kind : {"P-256", "P-384", "RSA", "ED25519"}) {
    PkeyPtr key = Generate(kind);
    ASSERT_NE(key, nullptr) << kind;
    bundle.x509_authorities.push_back(SelfSignedCertDer(key.get()));
  }
  absl::StatusOr<std::string> text = EncodeBundle(bundle);
  ASSERT_TRUE(text.ok()) << text.status();
  absl::StatusOr<BundleDocument> decoded = DecodeBundle(*text);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->x509_authorities, bundle.x509_authorities);
  EXPECT_THAT(decoded->jwt_authorities, IsEmpty());
}

TEST(BundleDocumentTest, X509AuthorityJsonShape) {
  PkeyPtr ec = Generate("P-256");
  PkeyPtr rsa = Generate("RSA");
  BundleDocument bundle;
  bundle.x509_authorities = {SelfSignedCertDer(ec.get()),
                             SelfSignedCertDer(rsa.get())};
  const json doc = EncodeToJson(bundle);
  ASSERT_EQ(doc["keys"].size(), 2u);

  const json& ec_key = doc["keys"][0];
  EXPECT_EQ(ec_key["use"], "x509-svid");
  EXPECT_EQ(ec_key["kty"], "EC");
  EXPECT_EQ(ec_key["crv"], "P-256");
  EXPECT_FALSE(ec_key.contains("kid"));
  ASSERT_EQ(ec_key["x5c"].size(), 1u);
  EXPECT_EQ(ec_key["x5c"][0], absl::Base64Escape(bundle.x509_authorities[0]));

  const json& rsa_key = doc["keys"][1];
  EXPECT_EQ(rsa_key["use"], "x509-svid");
  EXPECT_EQ(rsa_key["kty"], "RSA");
  EXPECT_EQ(rsa_key["e"], "AQAB");
  EXPECT_EQ(rsa_key["n"].get<std::string>().size(), 342u);  // 256 bytes.
  EXPECT_EQ(rsa_key["x5c"][0], absl::Base64Escape(bundle.x509_authorities[1]));
}

TEST(BundleDocumentTest, JwtAuthorityJsonShape) {
  struct Case {
    const char* kind;
    const char* kty;
    const char* crv;
    size_t coordinate_chars;
  };
  for (const Case& c :
       {Case{"P-256", "EC", "P-256", 43}, Case{"P-384", "EC", "P-384", 64},
        Case{"P-521", "EC", "P-521", 88},
        Case{"ED25519", "OKP", "Ed25519", 43}}) {
    PkeyPtr key = Generate(c.kind);
    BundleDocument bundle;
    bundle.jwt_authorities.push_back({"the-kid", PublicKeyDer(key.get())});
    absl::StatusOr<std::string> text = EncodeBundle(bundle);
    ASSERT_TRUE(text.ok()) << text.status();
    EXPECT_THAT(*text, Not(HasSubstr("=")));
    const json doc = json::parse(*text);
    const json& jwk = doc["keys"][0];
    EXPECT_EQ(jwk["use"], "jwt-svid") << c.kind;
    EXPECT_EQ(jwk["kid"], "the-kid") << c.kind;
    EXPECT_EQ(jwk["kty"], c.kty) << c.kind;
    EXPECT_EQ(jwk["crv"], c.crv) << c.kind;
    EXPECT_EQ(jwk["x"].get<std::string>().size(), c.coordinate_chars) << c.kind;
    EXPECT_EQ(jwk.contains("y"), std::string(c.kty) == "EC") << c.kind;
    if (jwk.contains("y")) {
      EXPECT_EQ(jwk["y"].get<std::string>().size(), c.coordinate_chars);
    }
    EXPECT_FALSE(jwk.contains("x5c"));
  }
}

TEST(BundleDocumentTest, EcCoordinatesAreLeftPadded) {
  // About one P-256 key in 256 has an x coordinate with a leading zero byte.
  PkeyPtr key;
  for (int attempt = 0; attempt < 20000 && key == nullptr; ++attempt) {
    PkeyPtr candidate = Generate("P-256");
    BIGNUM* raw = nullptr;
    ASSERT_EQ(
        EVP_PKEY_get_bn_param(candidate.get(), OSSL_PKEY_PARAM_EC_PUB_X, &raw),
        1);
    const BnPtr x(raw);
    if (BN_num_bytes(x.get()) < 32) key = std::move(candidate);
  }
  ASSERT_NE(key, nullptr);
  BundleDocument bundle;
  bundle.jwt_authorities.push_back({"k", PublicKeyDer(key.get())});
  const json doc = EncodeToJson(bundle);
  const std::string x = Base64UrlDecode(doc["keys"][0]["x"]);
  ASSERT_EQ(x.size(), 32u);
  EXPECT_EQ(x[0], '\0');

  absl::StatusOr<BundleDocument> decoded = DecodeBundle(doc.dump());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->jwt_authorities[0].public_key_der,
            bundle.jwt_authorities[0].public_key_der);
}

TEST(BundleDocumentTest, SequenceAlwaysWrittenRefreshHintOnlyWhenSet) {
  const json empty = EncodeToJson(BundleDocument{});
  EXPECT_EQ(empty, json::parse(R"({"keys":[],"spiffe_sequence":0})"));

  BundleDocument bundle;
  bundle.sequence = 18446744073709551615u;
  bundle.refresh_hint_seconds = 2419200;
  const json doc = EncodeToJson(bundle);
  EXPECT_EQ(doc["spiffe_sequence"].get<uint64_t>(), bundle.sequence);
  EXPECT_EQ(doc["spiffe_refresh_hint"].get<int64_t>(), 2419200);
  absl::StatusOr<BundleDocument> decoded = DecodeBundle(doc.dump());
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->sequence, bundle.sequence);
  EXPECT_EQ(decoded->refresh_hint_seconds, 2419200);
}

TEST(BundleDocumentTest, DecodesEmptyAndMinimalDocuments) {
  absl::StatusOr<BundleDocument> decoded = DecodeBundle(R"({"keys":[]})");
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_THAT(decoded->x509_authorities, IsEmpty());
  EXPECT_THAT(decoded->jwt_authorities, IsEmpty());
  EXPECT_EQ(decoded->sequence, 0u);
  EXPECT_EQ(decoded->refresh_hint_seconds, 0);
}

TEST(BundleDocumentTest, DecodesRfc7517Key) {
  absl::StatusOr<BundleDocument> decoded =
      DecodeBundle(Document(RfcJwk(kRfcX, kRfcY)));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  ASSERT_THAT(decoded->jwt_authorities, SizeIs(1));
  EXPECT_EQ(decoded->jwt_authorities[0].key_id, "1");

  // The DER is a real P-256 key that OpenSSL can load on its own.
  const std::string& der = decoded->jwt_authorities[0].public_key_der;
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  PkeyPtr key(d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size())));
  ASSERT_NE(key, nullptr);
  EXPECT_TRUE(EVP_PKEY_is_a(key.get(), "EC"));

  const json doc = EncodeToJson(*decoded);
  const json& jwk = doc["keys"][0];
  EXPECT_EQ(jwk["kty"], "EC");
  EXPECT_EQ(jwk["crv"], "P-256");
  EXPECT_EQ(jwk["x"], kRfcX);
  EXPECT_EQ(jwk["y"], kRfcY);
  EXPECT_EQ(jwk["kid"], "1");
}

TEST(BundleDocumentTest, X509AuthorityWithoutKeyParamsIsAccepted) {
  PkeyPtr key = Generate("P-256");
  const std::string der = SelfSignedCertDer(key.get());
  absl::StatusOr<BundleDocument> decoded = DecodeBundle(Document(absl::StrCat(
      R"({"use":"x509-svid","x5c":[")", absl::Base64Escape(der), R"("]})")));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->x509_authorities, std::vector<std::string>{der});
}

TEST(BundleDocumentTest, UnknownUseIsIgnored) {
  absl::StatusOr<BundleDocument> decoded = DecodeBundle(
      absl::StrCat(R"({"keys":[{"use":"future-svid","kty":"nonsense"},)",
                   RfcJwk(kRfcX, kRfcY), "]}"));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_THAT(decoded->x509_authorities, IsEmpty());
  ASSERT_THAT(decoded->jwt_authorities, SizeIs(1));
  EXPECT_EQ(decoded->jwt_authorities[0].key_id, "1");
}

TEST(BundleDocumentTest, RejectsMalformedDocuments) {
  PkeyPtr cert_key = Generate("P-256");
  const std::string cert_b64 =
      absl::Base64Escape(SelfSignedCertDer(cert_key.get()));
  PkeyPtr other_key = Generate("P-256");
  BundleDocument other;
  other.jwt_authorities.push_back({"o", PublicKeyDer(other_key.get())});
  json other_jwk = EncodeToJson(other)["keys"][0];
  other_jwk.erase("kid");
  other_jwk["use"] = "x509-svid";
  other_jwk["x5c"] = json::array({cert_b64});

  struct Case {
    std::string name;
    std::string text;
    std::string message;
  };
  const std::string rfc = RfcJwk(kRfcX, kRfcY);
  const std::vector<Case> cases = {
      {"not JSON", "{\"keys\":[", "not a JSON object"},
      {"array", "[]", "not a JSON object"},
      {"no keys", "{}", "\"keys\" array"},
      {"keys not array", R"({"keys":{}})", "\"keys\" array"},
      {"key not object", R"({"keys":[1]})", "keys[0]"},
      {"no use", Document(R"({"kty":"EC"})"), "keys[0]: \"use\""},
      {"x5c two entries",
       Document(absl::StrCat(R"({"use":"x509-svid","x5c":[")", cert_b64,
                             R"(",")", cert_b64, R"("]})")),
       "keys[0]: \"x5c\""},
      {"x5c empty", Document(R"({"use":"x509-svid","x5c":[]})"), "\"x5c\""},
      {"x5c missing", Document(R"({"use":"x509-svid"})"), "\"x5c\""},
      {"x5c bad base64", Document(R"({"use":"x509-svid","x5c":["!!!!"]})"),
       "not base64"},
      {"x5c not a certificate",
       Document(R"({"use":"x509-svid","x5c":["AAAA"]})"),
       "not a DER certificate"},
      {"x5c key mismatch", Document(other_jwk.dump()), "do not match"},
      {"EC point not on curve",
       Document(RfcJwk(kRfcX, "4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyA")),
       "valid EC public key"},
      {"bad base64url", Document(RfcJwk("!!!!", kRfcY)), "\"x\""},
      {"padded base64url", Document(RfcJwk(absl::StrCat(kRfcX, "="), kRfcY)),
       "\"x\""},
      {"standard base64 alphabet",
       Document(RfcJwk(kRfcX, absl::StrCat("+", kRfcY + 1))), "\"y\""},
      {"short coordinate", Document(RfcJwk(std::string(kRfcX, 42), kRfcY)),
       "\"x\""},
      {"missing kid",
       Document(absl::StrReplaceAll(rfc, {{R"(,"kid":"1")", ""}})),
       "keys[0]: \"kid\""},
      {"empty kid",
       Document(absl::StrReplaceAll(rfc, {{R"("kid":"1")", R"("kid":"")"}})),
       "\"kid\" must not be empty"},
      {"duplicate kid", absl::StrCat(R"({"keys":[)", rfc, ",", rfc, "]}"),
       "keys[1]: duplicate"},
      {"unknown kty",
       Document(R"({"use":"jwt-svid","kid":"a","kty":"oct","k":"AAAA"})"),
       "not supported"},
      {"unknown crv", Document(absl::StrReplaceAll(rfc, {{"P-256", "P-192"}})),
       "not supported"},
      {"OKP wrong crv",
       Document(R"({"use":"jwt-svid","kid":"a","kty":"OKP","crv":"X25519",)"
                R"("x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"})"),
       "not supported"},
      {"RSA missing e",
       Document(R"({"use":"jwt-svid","kid":"a","kty":"RSA","n":"AQAB"})"),
       "\"e\""},
      {"RSA even modulus",
       Document(
           R"({"use":"jwt-svid","kid":"a","kty":"RSA","n":"AQAC","e":"AQAB"})"),
       "RSA public key"},
      {"negative sequence", R"({"keys":[],"spiffe_sequence":-1})",
       "spiffe_sequence"},
      {"fractional sequence", R"({"keys":[],"spiffe_sequence":1.5})",
       "spiffe_sequence"},
      {"string refresh hint", R"({"keys":[],"spiffe_refresh_hint":"60"})",
       "spiffe_refresh_hint"},
      {"refresh hint beyond int64",
       R"({"keys":[],"spiffe_refresh_hint":9223372036854775808})",
       "spiffe_refresh_hint"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<BundleDocument> decoded = DecodeBundle(c.text);
    EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument)
        << c.name;
    EXPECT_THAT(decoded.status().message(), HasSubstr(c.message)) << c.name;
  }
}

TEST(BundleDocumentTest, RejectsDocumentsOverLimits) {
  std::string many_keys = R"({"keys":[)";
  for (size_t i = 0; i <= kMaxBundleKeys; ++i) {
    absl::StrAppend(&many_keys, i == 0 ? "" : ",", R"({"use":"x"})");
  }
  absl::StrAppend(&many_keys, "]}");
  EXPECT_EQ(DecodeBundle(many_keys).status().code(),
            absl::StatusCode::kInvalidArgument);

  std::string large = R"({"keys":[],"pad":")";
  large.append(kMaxBundleDocumentBytes, 'a');
  large.append("\"}");
  EXPECT_EQ(DecodeBundle(large).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(BundleDocumentTest, EncodeRejectsWhatCannotBeExpressed) {
  PkeyPtr p256 = Generate("P-256");
  PkeyPtr ed448 = Generate("ED448");
  ASSERT_NE(ed448, nullptr);
  const std::string p256_der = PublicKeyDer(p256.get());

  struct Case {
    std::string name;
    BundleDocument bundle;
  };
  std::vector<Case> cases(7);
  cases[0].name = "Ed448 JWT authority";
  cases[0].bundle.jwt_authorities = {{"k", PublicKeyDer(ed448.get())}};
  cases[1].name = "Ed448 certificate";
  cases[1].bundle.x509_authorities = {SelfSignedCertDer(ed448.get())};
  cases[2].name = "bad key DER";
  cases[2].bundle.jwt_authorities = {{"k", "not DER"}};
  cases[3].name = "bad certificate DER";
  cases[3].bundle.x509_authorities = {p256_der};
  cases[4].name = "empty kid";
  cases[4].bundle.jwt_authorities = {{"", p256_der}};
  cases[5].name = "kid not UTF-8";
  cases[5].bundle.jwt_authorities = {{"\xff", p256_der}};
  cases[6].name = "negative refresh hint";
  cases[6].bundle.refresh_hint_seconds = -1;
  for (const Case& c : cases) {
    EXPECT_EQ(EncodeBundle(c.bundle).status().code(),
              absl::StatusCode::kInvalidArgument)
        << c.name;
  }

  BundleDocument duplicate;
  duplicate.jwt_authorities = {{"k", p256_der}, {"k", p256_der}};
  EXPECT_EQ(EncodeBundle(duplicate).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trellis::spiffe
