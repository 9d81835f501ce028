#include "ca/x509.h"

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ca/testing/csr.h"
#include "crypto/keys.h"
#include "crypto/self_signed.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace trellis::ca {
namespace {

using X509Ptr = std::unique_ptr<X509, decltype(&X509_free)>;

constexpr char kTd[] = "example.org";
constexpr char kWorkload[] = "spiffe://example.org/ns/prod/sa/web";

// Whole seconds, so that certificate times compare exactly.
absl::Time Now() {
  return absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
}

X509Ptr Parse(const std::string &der) {
  const auto *p = reinterpret_cast<const unsigned char *>(der.data());
  return X509Ptr(d2i_X509(nullptr, &p, static_cast<long>(der.size())),
                 X509_free);
}

crypto::PrivateKey KeyOf(const std::string &der) {
  absl::StatusOr<crypto::PrivateKey> key = crypto::ParsePrivateKey(der);
  EXPECT_TRUE(key.ok()) << key.status();
  return key.ok() ? *std::move(key) : nullptr;
}

crypto::PrivateKey NewKey(KeyType type) {
  absl::StatusOr<std::string> der = GeneratePrivateKey(type);
  EXPECT_TRUE(der.ok()) << der.status();
  return KeyOf(*der);
}

// SHA-1 of the subjectPublicKey BIT STRING, computed from the SPKI DER.
std::string KeyId(const EVP_PKEY *key) {
  unsigned char *der = nullptr;
  const int len = i2d_PUBKEY(key, &der);
  const unsigned char *p = der;
  X509_PUBKEY *pub = d2i_X509_PUBKEY(nullptr, &p, len);
  OPENSSL_free(der);
  const unsigned char *bits = nullptr;
  int bits_len = 0;
  EXPECT_EQ(X509_PUBKEY_get0_param(nullptr, &bits, &bits_len, nullptr, pub), 1);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  EXPECT_EQ(EVP_Digest(bits, bits_len, md, &md_len, EVP_sha1(), nullptr), 1);
  X509_PUBKEY_free(pub);
  return std::string(reinterpret_cast<char *>(md), md_len);
}

std::string Str(const ASN1_STRING *s) {
  return std::string(reinterpret_cast<const char *>(ASN1_STRING_get0_data(s)),
                     ASN1_STRING_length(s));
}

// "C=US/O=SPIRE/CN=x", with the string types checked separately.
std::string NameText(const X509_NAME *name) {
  std::vector<std::string> parts;
  for (int i = 0; i < X509_NAME_entry_count(name); ++i) {
    const X509_NAME_ENTRY *e = X509_NAME_get_entry(name, i);
    parts.push_back(
        absl::StrCat(OBJ_nid2sn(OBJ_obj2nid(X509_NAME_ENTRY_get_object(e))),
                     "=", Str(X509_NAME_ENTRY_get_data(e))));
  }
  return absl::StrJoin(parts, "/");
}

// -1 when absent.
int Critical(X509 *cert, int nid) {
  const int idx = X509_get_ext_by_NID(cert, nid, -1);
  if (idx < 0) return -1;
  EXPECT_LT(X509_get_ext_by_NID(cert, nid, idx), 0) << "duplicate " << nid;
  return X509_EXTENSION_get_critical(X509_get_ext(cert, idx));
}

struct Names {
  std::vector<std::string> uris, dns;
  int others = 0;
};
Names SubjectAltNames(X509 *cert) {
  Names out;
  auto *names = static_cast<GENERAL_NAMES *>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME *n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_URI) {
      out.uris.push_back(Str(n->d.uniformResourceIdentifier));
    } else if (n->type == GEN_DNS) {
      out.dns.push_back(Str(n->d.dNSName));
    } else {
      ++out.others;
    }
  }
  GENERAL_NAMES_free(names);
  return out;
}

std::string AuthorityKeyId(X509 *cert) {
  auto *akid = static_cast<AUTHORITY_KEYID *>(
      X509_get_ext_d2i(cert, NID_authority_key_identifier, nullptr, nullptr));
  if (akid == nullptr) return "";
  // Key id only, as Go writes it.
  EXPECT_EQ(akid->issuer, nullptr);
  EXPECT_EQ(akid->serial, nullptr);
  std::string out = akid->keyid != nullptr ? Str(akid->keyid) : "";
  AUTHORITY_KEYID_free(akid);
  return out;
}

int SerialBits(X509 *cert) {
  const ASN1_INTEGER *serial = X509_get0_serialNumber(cert);
  EXPECT_NE(ASN1_STRING_type(serial), V_ASN1_NEG_INTEGER);
  BIGNUM *bn = ASN1_INTEGER_to_BN(serial, nullptr);
  const int bits = BN_num_bits(bn);
  BN_free(bn);
  return bits;
}

using ::trellis::ca::testing::MakeCsr;

// X509_V_OK or the OpenSSL verification error.
int VerifyChain(const std::string &ca_der, const std::string &leaf_der,
                absl::Time at, int purpose) {
  X509Ptr ca = Parse(ca_der);
  X509Ptr leaf = Parse(leaf_der);
  X509_STORE *store = X509_STORE_new();
  X509_STORE_add_cert(store, ca.get());
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf.get(), nullptr);
  X509_VERIFY_PARAM *param = X509_STORE_CTX_get0_param(ctx);
  X509_VERIFY_PARAM_set_time(param, absl::ToTimeT(at));
  X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_X509_STRICT);
  X509_STORE_CTX_set_purpose(ctx, purpose);
  const int ok = X509_verify_cert(ctx);
  const int err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return err;
}

int ExpectedSignatureNid(KeyType type) {
  switch (type) {
    case KeyType::kEcP256:
      return NID_ecdsa_with_SHA256;
    case KeyType::kEcP384:
      return NID_ecdsa_with_SHA384;
    default:
      return NID_sha256WithRSAEncryption;
  }
}

TEST(KeyTypeTest, ParsesSpireNames) {
  for (KeyType type : {KeyType::kEcP256, KeyType::kEcP384, KeyType::kRsa2048,
                       KeyType::kRsa4096}) {
    absl::StatusOr<KeyType> parsed = ParseKeyType(KeyTypeName(type));
    ASSERT_TRUE(parsed.ok()) << KeyTypeName(type);
    EXPECT_EQ(*parsed, type);
  }
  EXPECT_EQ(*ParseKeyType("ec-p256"), KeyType::kEcP256);
  EXPECT_EQ(*ParseKeyType("rsa-4096"), KeyType::kRsa4096);
  for (const char *bad :
       {"", "EC-P256", "ec-p521", "rsa-1024", "ed25519", "ec-p256 "}) {
    EXPECT_EQ(ParseKeyType(bad).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
  }
}

class KeyTypeParamTest : public ::testing::TestWithParam<KeyType> {};

TEST_P(KeyTypeParamTest, GeneratesPkcs8Keys) {
  absl::StatusOr<std::string> der = GeneratePrivateKey(GetParam());
  ASSERT_TRUE(der.ok()) << der.status();
  const auto *p = reinterpret_cast<const unsigned char *>(der->data());
  PKCS8_PRIV_KEY_INFO *p8 =
      d2i_PKCS8_PRIV_KEY_INFO(nullptr, &p, static_cast<long>(der->size()));
  EXPECT_NE(p8, nullptr) << "not PKCS#8";
  PKCS8_PRIV_KEY_INFO_free(p8);
  crypto::PrivateKey key = KeyOf(*der);
  ASSERT_NE(key, nullptr);
  switch (GetParam()) {
    case KeyType::kEcP256:
      EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_EC);
      EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 256);
      break;
    case KeyType::kEcP384:
      EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_EC);
      EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 384);
      break;
    case KeyType::kRsa2048:
      EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_RSA);
      EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 2048);
      break;
    case KeyType::kRsa4096:
      EXPECT_EQ(EVP_PKEY_get_base_id(key.get()), EVP_PKEY_RSA);
      EXPECT_EQ(EVP_PKEY_get_bits(key.get()), 4096);
      break;
  }
}

TEST_P(KeyTypeParamTest, SelfSignedCaHasSpiffeShape) {
  absl::StatusOr<std::string> key_der = GeneratePrivateKey(GetParam());
  ASSERT_TRUE(key_der.ok());
  const absl::Time now = Now();
  absl::StatusOr<std::string> ca_der =
      CreateSelfSignedCa(*key_der, kTd, now, absl::Hours(24));
  ASSERT_TRUE(ca_der.ok()) << ca_der.status();
  X509Ptr ca = Parse(*ca_der);
  ASSERT_NE(ca, nullptr);
  crypto::PrivateKey key = KeyOf(*key_der);

  EXPECT_EQ(X509_get_version(ca.get()), X509_VERSION_3);
  const int bits = SerialBits(ca.get());
  EXPECT_GE(bits, 1);
  EXPECT_LE(bits, 128);
  absl::StatusOr<std::string> serial = SerialNumber(*ca_der);
  ASSERT_TRUE(serial.ok());
  EXPECT_EQ(NameText(X509_get_subject_name(ca.get())),
            absl::StrCat("C=US/O=SPIFFE/serialNumber=", *serial));
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(ASN1_STRING_type(X509_NAME_ENTRY_get_data(
                  X509_NAME_get_entry(X509_get_subject_name(ca.get()), i))),
              V_ASN1_PRINTABLESTRING);
  }
  EXPECT_EQ(X509_NAME_cmp(X509_get_subject_name(ca.get()),
                          X509_get_issuer_name(ca.get())),
            0);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(ca.get()), key.get()), 1);

  EXPECT_EQ(X509_get_ext_count(ca.get()), 5);
  EXPECT_EQ(Critical(ca.get(), NID_basic_constraints), 1);
  auto *bc = static_cast<BASIC_CONSTRAINTS *>(
      X509_get_ext_d2i(ca.get(), NID_basic_constraints, nullptr, nullptr));
  ASSERT_NE(bc, nullptr);
  EXPECT_TRUE(bc->ca);
  EXPECT_EQ(bc->pathlen, nullptr);
  BASIC_CONSTRAINTS_free(bc);
  EXPECT_EQ(Critical(ca.get(), NID_key_usage), 1);
  EXPECT_EQ(X509_get_key_usage(ca.get()), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
  EXPECT_EQ(Critical(ca.get(), NID_ext_key_usage), -1);
  EXPECT_EQ(Critical(ca.get(), NID_subject_alt_name), 0);
  const Names names = SubjectAltNames(ca.get());
  EXPECT_EQ(names.uris, std::vector<std::string>{"spiffe://example.org"});
  EXPECT_TRUE(names.dns.empty());
  EXPECT_EQ(names.others, 0);
  EXPECT_EQ(Critical(ca.get(), NID_subject_key_identifier), 0);
  EXPECT_EQ(Critical(ca.get(), NID_authority_key_identifier), 0);
  absl::StatusOr<std::string> ski = SubjectKeyId(*ca_der);
  ASSERT_TRUE(ski.ok());
  EXPECT_EQ(ski->size(), 20u);
  EXPECT_EQ(*ski, KeyId(key.get()));
  EXPECT_EQ(AuthorityKeyId(ca.get()), *ski);

  absl::StatusOr<Validity> validity = GetValidity(*ca_der);
  ASSERT_TRUE(validity.ok());
  EXPECT_EQ(validity->not_before, now - absl::Seconds(10));
  EXPECT_EQ(validity->not_after, now + absl::Hours(24));
  EXPECT_EQ(*NotAfter(*ca_der), now + absl::Hours(24));

  EXPECT_EQ(X509_get_signature_nid(ca.get()), ExpectedSignatureNid(GetParam()));
  EXPECT_EQ(X509_verify(ca.get(), key.get()), 1);
  EXPECT_NE(X509_check_ca(ca.get()), 0);
  EXPECT_EQ(VerifyChain(*ca_der, *ca_der, now, X509_PURPOSE_ANY), X509_V_OK);
}

TEST_P(KeyTypeParamTest, SubjectKeyFromTheCsrIsCopiedExactly) {
  absl::StatusOr<std::string> ca_key = GeneratePrivateKey(KeyType::kEcP256);
  const absl::Time now = Now();
  absl::StatusOr<std::string> ca_der =
      CreateSelfSignedCa(*ca_key, "spiffe://example.org", now, absl::Hours(24));
  ASSERT_TRUE(ca_der.ok()) << ca_der.status();
  crypto::PrivateKey leaf_key = NewKey(GetParam());
  absl::StatusOr<CertificateRequest> csr =
      ParseCsr(MakeCsr(leaf_key.get(), absl::StrCat("URI:", kWorkload)), true);
  ASSERT_TRUE(csr.ok()) << csr.status();
  SvidTemplate tmpl;
  tmpl.spiffe_id = kWorkload;
  tmpl.public_key_der = csr->public_key_der;
  tmpl.now = now;
  tmpl.ttl = absl::Hours(1);
  absl::StatusOr<std::string> svid = SignX509Svid({*ca_der, *ca_key}, tmpl);
  ASSERT_TRUE(svid.ok()) << svid.status();
  // The certificate's key decodes to the CSR's key (OpenSSL decoding it
  // from the certificate, independently of how it was put there).
  X509Ptr leaf = Parse(*svid);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(*crypto::MarshalPublicKey(*X509_get0_pubkey(leaf.get())),
            *crypto::MarshalPublicKey(*leaf_key));
  EXPECT_EQ(VerifyChain(*ca_der, *svid, now, X509_PURPOSE_ANY), X509_V_OK);
  // Garbage where an SPKI belongs is refused, not embedded.
  tmpl.public_key_der = "not an SPKI";
  EXPECT_EQ(SignX509Svid({*ca_der, *ca_key}, tmpl).status().code(),
            absl::StatusCode::kInvalidArgument);
  tmpl.public_key_der = csr->public_key_der + "x";
  EXPECT_EQ(SignX509Svid({*ca_der, *ca_key}, tmpl).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(KeyTypeParamTest, DeferredSignatureKeepsThePrecertificateHash) {
  absl::StatusOr<std::string> ca_key = GeneratePrivateKey(GetParam());
  const absl::Time now = Now();
  absl::StatusOr<std::string> ca_der =
      CreateSelfSignedCa(*ca_key, "spiffe://example.org", now, absl::Hours(24));
  ASSERT_TRUE(ca_der.ok()) << ca_der.status();
  absl::StatusOr<ParsedIssuer> issuer = ParseIssuer({*ca_der, *ca_key});
  ASSERT_TRUE(issuer.ok()) << issuer.status();
  crypto::PrivateKey leaf_key = NewKey(KeyType::kEcP256);
  SvidTemplate tmpl;
  tmpl.spiffe_id = kWorkload;
  tmpl.public_key_der = *crypto::MarshalPublicKey(*leaf_key);
  tmpl.now = now;
  tmpl.ttl = absl::Hours(1);
  tmpl.defer_signature = true;
  for (bool with_promise : {true, false}) {
    absl::StatusOr<IssuedCertificate> cert = SignX509Svid(*issuer, tmpl);
    ASSERT_TRUE(cert.ok()) << cert.status();
    EXPECT_TRUE(cert->der().empty());  // Not signed yet.
    absl::StatusOr<std::string> hash = cert->PrecertificateHash();
    ASSERT_TRUE(hash.ok());
    ASSERT_TRUE((with_promise ? cert->AddInclusionPromise(*issuer, "promise")
                              : cert->Sign(*issuer))
                    .ok());
    // Signed once, by the CA, and the hash the log recorded still holds.
    EXPECT_EQ(VerifyChain(*ca_der, cert->der(), now, X509_PURPOSE_ANY),
              X509_V_OK);
    EXPECT_EQ(*PrecertificateHash(cert->der()), *hash);
    EXPECT_EQ(InclusionPromiseOf(cert->der()).ok(), with_promise);
  }
}

TEST_P(KeyTypeParamTest, SignsSvidThatVerifiesAndHasSpireShape) {
  absl::StatusOr<std::string> ca_key = GeneratePrivateKey(GetParam());
  ASSERT_TRUE(ca_key.ok());
  const absl::Time now = Now();
  absl::StatusOr<std::string> ca_der =
      CreateSelfSignedCa(*ca_key, "spiffe://example.org", now, absl::Hours(24));
  ASSERT_TRUE(ca_der.ok()) << ca_der.status();

  crypto::PrivateKey leaf_key = NewKey(KeyType::kEcP256);
  absl::StatusOr<CertificateRequest> csr =
      ParseCsr(MakeCsr(leaf_key.get(), absl::StrCat("URI:", kWorkload)), true);
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_EQ(csr->uri_sans, std::vector<std::string>{kWorkload});
  EXPECT_EQ(csr->public_key_der, *crypto::MarshalPublicKey(*leaf_key));

  SvidTemplate tmpl;
  tmpl.spiffe_id = csr->uri_sans[0];
  tmpl.public_key_der = csr->public_key_der;
  tmpl.dns_names = {"web.example.org", "web"};
  tmpl.now = now;
  tmpl.ttl = absl::Hours(1);
  absl::StatusOr<std::string> svid = SignX509Svid({*ca_der, *ca_key}, tmpl);
  ASSERT_TRUE(svid.ok()) << svid.status();

  EXPECT_EQ(VerifyChain(*ca_der, *svid, now, X509_PURPOSE_SSL_SERVER),
            X509_V_OK);
  EXPECT_EQ(VerifyChain(*ca_der, *svid, now, X509_PURPOSE_SSL_CLIENT),
            X509_V_OK);
  EXPECT_EQ(
      VerifyChain(*ca_der, *svid, now + absl::Minutes(59), X509_PURPOSE_ANY),
      X509_V_OK);
  EXPECT_EQ(
      VerifyChain(*ca_der, *svid, now + absl::Minutes(61), X509_PURPOSE_ANY),
      X509_V_ERR_CERT_HAS_EXPIRED);

  X509Ptr leaf = Parse(*svid);
  X509Ptr ca = Parse(*ca_der);
  ASSERT_NE(leaf, nullptr);
  EXPECT_EQ(X509_get_version(leaf.get()), X509_VERSION_3);
  EXPECT_EQ(NameText(X509_get_subject_name(leaf.get())),
            "C=US/O=SPIRE/CN=web.example.org");
  EXPECT_EQ(X509_NAME_cmp(X509_get_issuer_name(leaf.get()),
                          X509_get_subject_name(ca.get())),
            0);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), leaf_key.get()), 1);

  EXPECT_EQ(X509_get_ext_count(leaf.get()), 6);
  EXPECT_EQ(Critical(leaf.get(), NID_basic_constraints), 1);
  auto *bc = static_cast<BASIC_CONSTRAINTS *>(
      X509_get_ext_d2i(leaf.get(), NID_basic_constraints, nullptr, nullptr));
  ASSERT_NE(bc, nullptr);
  EXPECT_FALSE(bc->ca);
  BASIC_CONSTRAINTS_free(bc);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_EQ(Critical(leaf.get(), NID_key_usage), 1);
  EXPECT_EQ(X509_get_key_usage(leaf.get()),
            KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT);
  EXPECT_EQ(Critical(leaf.get(), NID_ext_key_usage), 0);
  auto *eku = static_cast<EXTENDED_KEY_USAGE *>(
      X509_get_ext_d2i(leaf.get(), NID_ext_key_usage, nullptr, nullptr));
  ASSERT_NE(eku, nullptr);
  ASSERT_EQ(sk_ASN1_OBJECT_num(eku), 2);
  EXPECT_EQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)), NID_server_auth);
  EXPECT_EQ(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 1)), NID_client_auth);
  EXTENDED_KEY_USAGE_free(eku);
  EXPECT_EQ(Critical(leaf.get(), NID_subject_alt_name), 0);
  const Names names = SubjectAltNames(leaf.get());
  EXPECT_EQ(names.uris, std::vector<std::string>{kWorkload});
  EXPECT_EQ(names.dns, tmpl.dns_names);
  EXPECT_EQ(names.others, 0);
  EXPECT_EQ(Critical(leaf.get(), NID_subject_key_identifier), 0);
  EXPECT_EQ(*SubjectKeyId(*svid), KeyId(leaf_key.get()));
  EXPECT_EQ(Critical(leaf.get(), NID_authority_key_identifier), 0);
  EXPECT_EQ(AuthorityKeyId(leaf.get()), *SubjectKeyId(*ca_der));

  const int bits = SerialBits(leaf.get());
  EXPECT_GE(bits, 1);
  EXPECT_LE(bits, 128);
  absl::StatusOr<Validity> validity = GetValidity(*svid);
  ASSERT_TRUE(validity.ok());
  EXPECT_EQ(validity->not_before, now - absl::Seconds(10));
  EXPECT_EQ(validity->not_after, now + absl::Hours(1));
  EXPECT_EQ(X509_get_signature_nid(leaf.get()),
            ExpectedSignatureNid(GetParam()));
}

INSTANTIATE_TEST_SUITE_P(AllKeyTypes, KeyTypeParamTest,
                         ::testing::Values(KeyType::kEcP256, KeyType::kEcP384,
                                           KeyType::kRsa2048,
                                           KeyType::kRsa4096),
                         [](const ::testing::TestParamInfo<KeyType> &info) {
                           std::string name(KeyTypeName(info.param));
                           name.erase(name.find('-'), 1);
                           return name;
                         });

class SvidTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::string> key = GeneratePrivateKey(KeyType::kEcP256);
    ASSERT_TRUE(key.ok());
    issuer_.key_der = *key;
    absl::StatusOr<std::string> cert =
        CreateSelfSignedCa(*key, kTd, now_, absl::Hours(24));
    ASSERT_TRUE(cert.ok()) << cert.status();
    issuer_.cert_der = *cert;
    leaf_key_ = NewKey(KeyType::kEcP256);
    tmpl_.spiffe_id = kWorkload;
    tmpl_.public_key_der = *crypto::MarshalPublicKey(*leaf_key_);
    tmpl_.now = now_;
    tmpl_.ttl = absl::Hours(1);
  }

  const absl::Time now_ = Now();
  Issuer issuer_;
  crypto::PrivateKey leaf_key_;
  SvidTemplate tmpl_;
};

TEST_F(SvidTest, InclusionPromiseKeepsThePrecertificateHash) {
  absl::StatusOr<std::string> precert = SignX509Svid(issuer_, tmpl_);
  ASSERT_TRUE(precert.ok()) << precert.status();
  absl::StatusOr<std::string> hash = PrecertificateHash(*precert);
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(hash->size(), 32u);
  EXPECT_EQ(InclusionPromiseOf(*precert).status().code(),
            absl::StatusCode::kNotFound);
  absl::StatusOr<std::string> final_cert =
      AddInclusionPromise(*precert, issuer_.key_der, "the promise");
  ASSERT_TRUE(final_cert.ok()) << final_cert.status();
  EXPECT_NE(*final_cert, *precert);
  EXPECT_EQ(*PrecertificateHash(*final_cert), *hash);
  EXPECT_EQ(*InclusionPromiseOf(*final_cert), "the promise");
  EXPECT_EQ(VerifyChain(issuer_.cert_der, *final_cert, now_, X509_PURPOSE_ANY),
            X509_V_OK);
  EXPECT_EQ(AddInclusionPromise(*final_cert, issuer_.key_der, "again")
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  // Another certificate (another serial) has another hash.
  absl::StatusOr<std::string> other = SignX509Svid(issuer_, tmpl_);
  EXPECT_NE(*PrecertificateHash(*other), *hash);
}

TEST_F(SvidTest, RawExtensionsCarryTheirBytesNonCritically) {
  const std::string claims = R"({"grc.workload":{"workload-id":"x"}})";
  tmpl_.extensions = {{kSovereignClaimsOid, claims}};
  absl::StatusOr<std::string> svid = SignX509Svid(issuer_, tmpl_);
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_EQ(*ExtensionValue(*svid, kSovereignClaimsOid), claims);
  EXPECT_EQ(ExtensionValue(*svid, kLegacySovereignClaimsOid).status().code(),
            absl::StatusCode::kNotFound);
  // Non-critical: a verifier that does not know the OID accepts it.
  EXPECT_EQ(VerifyChain(issuer_.cert_der, *svid, now_, X509_PURPOSE_ANY),
            X509_V_OK);
  // The promise is added beside it and the claims stay in the hash.
  absl::StatusOr<std::string> promised =
      AddInclusionPromise(*svid, issuer_.key_der, "promise");
  ASSERT_TRUE(promised.ok()) << promised.status();
  EXPECT_EQ(*ExtensionValue(*promised, kSovereignClaimsOid), claims);
  tmpl_.extensions = {{"not an oid", "x"}};
  EXPECT_EQ(SignX509Svid(issuer_, tmpl_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckOid("1.3.6.1.4.1.55744.1.1").ok());
  EXPECT_FALSE(CheckOid("commonName").ok());
  EXPECT_FALSE(CheckOid("").ok());
}

TEST_F(SvidTest, CertificatesFromPemSkipsOtherBlocks) {
  absl::StatusOr<std::string> leaf = SignX509Svid(issuer_, tmpl_);
  ASSERT_TRUE(leaf.ok());
  const std::string pem = DerToPem(*leaf, "CERTIFICATE") +
                          DerToPem(issuer_.key_der, "PRIVATE KEY") +
                          DerToPem(issuer_.cert_der, "CERTIFICATE");
  absl::StatusOr<std::vector<std::string>> certs = CertificatesFromPem(pem);
  ASSERT_TRUE(certs.ok()) << certs.status();
  EXPECT_EQ(*certs, (std::vector<std::string>{*leaf, issuer_.cert_der}));
  EXPECT_EQ(CertificatesFromPem(pem, 1)->size(), 1u);
  EXPECT_EQ(CertificatesFromPem("garbage").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(SvidTest, TtlIsCappedAtIssuerNotAfter) {
  tmpl_.now = now_ + absl::Hours(23) + absl::Minutes(30);
  absl::StatusOr<std::string> svid = SignX509Svid(issuer_, tmpl_);
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_EQ(*NotAfter(*svid), now_ + absl::Hours(24));
  EXPECT_EQ(*NotAfter(*svid), *NotAfter(issuer_.cert_der));
  EXPECT_EQ(GetValidity(*svid)->not_before, tmpl_.now - absl::Seconds(10));
  EXPECT_EQ(VerifyChain(issuer_.cert_der, *svid, tmpl_.now, X509_PURPOSE_ANY),
            X509_V_OK);

  // Not capped when it fits.
  tmpl_.now = now_;
  svid = SignX509Svid(issuer_, tmpl_);
  ASSERT_TRUE(svid.ok());
  EXPECT_EQ(*NotAfter(*svid), now_ + absl::Hours(1));
}

TEST_F(SvidTest, ExpiredIssuerIsFailedPrecondition) {
  tmpl_.now = now_ + absl::Hours(24);
  EXPECT_EQ(SignX509Svid(issuer_, tmpl_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  tmpl_.now = now_ + absl::Hours(48);
  EXPECT_EQ(SignX509Svid(issuer_, tmpl_).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(SvidTest, SerialsAreRandom128Bit) {
  std::set<std::string> serials;
  int max_bits = 0;
  for (int i = 0; i < 64; ++i) {
    absl::StatusOr<std::string> svid = SignX509Svid(issuer_, tmpl_);
    ASSERT_TRUE(svid.ok());
    X509Ptr leaf = Parse(*svid);
    const int bits = SerialBits(leaf.get());
    EXPECT_GE(bits, 1);
    EXPECT_LE(bits, 128);
    max_bits = std::max(max_bits, bits);
    // Positive DER INTEGER of at most 17 content bytes (RFC 5280: <= 20).
    EXPECT_LE(ASN1_STRING_length(X509_get0_serialNumber(leaf.get())), 17);
    serials.insert(*SerialNumber(*svid));
  }
  EXPECT_EQ(serials.size(), 64u);
  EXPECT_EQ(max_bits, 128);  // Fails with probability 2^-64.
}

TEST_F(SvidTest, WithoutDnsNamesSubjectHasNoCn) {
  absl::StatusOr<std::string> svid = SignX509Svid(issuer_, tmpl_);
  ASSERT_TRUE(svid.ok());
  X509Ptr leaf = Parse(*svid);
  EXPECT_EQ(NameText(X509_get_subject_name(leaf.get())), "C=US/O=SPIRE");
  const Names names = SubjectAltNames(leaf.get());
  EXPECT_EQ(names.uris, std::vector<std::string>{kWorkload});
  EXPECT_TRUE(names.dns.empty());
}

TEST_F(SvidTest, LongDnsNameBecomesCn) {
  // Longer than X.520's 64-byte CN bound, which upstream does not enforce.
  const std::string dns = std::string(90, 'a') + ".example.org";
  tmpl_.dns_names = {dns};
  absl::StatusOr<std::string> svid = SignX509Svid(issuer_, tmpl_);
  ASSERT_TRUE(svid.ok()) << svid.status();
  X509Ptr leaf = Parse(*svid);
  EXPECT_EQ(NameText(X509_get_subject_name(leaf.get())),
            "C=US/O=SPIRE/CN=" + dns);
}

TEST_F(SvidTest, RsaLeafKeyFromCsr) {
  crypto::PrivateKey rsa = NewKey(KeyType::kRsa2048);
  absl::StatusOr<CertificateRequest> csr =
      ParseCsr(MakeCsr(rsa.get(), ""), true);
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_TRUE(csr->uri_sans.empty());
  tmpl_.public_key_der = csr->public_key_der;
  absl::StatusOr<std::string> svid = SignX509Svid(issuer_, tmpl_);
  ASSERT_TRUE(svid.ok()) << svid.status();
  EXPECT_EQ(VerifyChain(issuer_.cert_der, *svid, now_, X509_PURPOSE_ANY),
            X509_V_OK);
  X509Ptr leaf = Parse(*svid);
  EXPECT_EQ(EVP_PKEY_eq(X509_get0_pubkey(leaf.get()), rsa.get()), 1);
  EXPECT_EQ(*SubjectKeyId(*svid), KeyId(rsa.get()));
}

TEST_F(SvidTest, RejectsBadTemplates) {
  auto code = [&](SvidTemplate t) { return SignX509Svid(issuer_, t).status(); };
  SvidTemplate t = tmpl_;
  t.ttl = absl::ZeroDuration();
  EXPECT_EQ(code(t).code(), absl::StatusCode::kInvalidArgument);
  t.ttl = -absl::Seconds(1);
  EXPECT_EQ(code(t).code(), absl::StatusCode::kInvalidArgument);

  for (const char *id :
       {"", "spiffe://example.org", "spiffe://example.org/",
        "spiffe://Example.org/a", "spiffe://example.org/a/../b",
        "https://example.org/a", "spiffe://other.org/a",
        "spiffe://example.org.evil/a"}) {
    t = tmpl_;
    t.spiffe_id = id;
    EXPECT_EQ(code(t).code(), absl::StatusCode::kInvalidArgument) << id;
  }
  absl::Status foreign = [&] {
    SvidTemplate f = tmpl_;
    f.spiffe_id = "spiffe://other.org/a";
    return code(f);
  }();
  EXPECT_TRUE(absl::StrContains(foreign.message(), "trust domain")) << foreign;

  for (const std::string &bad_key :
       {std::string(), std::string("garbage"),
        tmpl_.public_key_der.substr(0, tmpl_.public_key_der.size() - 1),
        tmpl_.public_key_der + std::string(1, '\0')}) {
    t = tmpl_;
    t.public_key_der = bad_key;
    EXPECT_EQ(code(t).code(), absl::StatusCode::kInvalidArgument);
  }

  // Config-syntax injection must not turn into extra SANs.
  for (const char *dns : {"", "a,URI:spiffe://example.org/admin", "a b", "a\nb",
                          "\xc3\xa9.example.org"}) {
    t = tmpl_;
    t.dns_names = {"ok.example.org", dns};
    EXPECT_EQ(code(t).code(), absl::StatusCode::kInvalidArgument) << dns;
  }
  t = tmpl_;
  t.dns_names = {"*.example.org", "under_score.example.org"};
  EXPECT_TRUE(code(t).ok()) << code(t);
}

TEST_F(SvidTest, RejectsBadIssuers) {
  auto status = [&](const Issuer &issuer) {
    return SignX509Svid(issuer, tmpl_).status();
  };
  Issuer bad = issuer_;
  bad.cert_der = "garbage";
  EXPECT_EQ(status(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = issuer_;
  bad.cert_der += '\0';
  EXPECT_EQ(status(bad).code(), absl::StatusCode::kInvalidArgument);
  bad = issuer_;
  bad.key_der = "garbage";
  EXPECT_EQ(status(bad).code(), absl::StatusCode::kInvalidArgument);

  // A key that is not the certificate's.
  bad = issuer_;
  bad.key_der = *GeneratePrivateKey(KeyType::kEcP256);
  absl::Status mismatch = status(bad);
  EXPECT_EQ(mismatch.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(mismatch.message(), "does not match"))
      << mismatch;

  // A leaf cannot sign.
  absl::StatusOr<std::string> leaf = SignX509Svid(issuer_, tmpl_);
  ASSERT_TRUE(leaf.ok());
  bad.cert_der = *leaf;
  bad.key_der = *crypto::MarshalPrivateKey(*leaf_key_);
  absl::Status not_ca = status(bad);
  EXPECT_EQ(not_ca.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(not_ca.message(), "not a CA")) << not_ca;
}

TEST(CreateSelfSignedCaTest, RejectsBadInput) {
  const std::string key = *GeneratePrivateKey(KeyType::kEcP256);
  const absl::Time now = Now();
  EXPECT_TRUE(CreateSelfSignedCa(key, kTd, now, absl::Seconds(1)).ok());
  for (const char *td : {"", "Example.org", "example.org:443",
                         "spiffe://example.org/path", "http://example.org"}) {
    EXPECT_EQ(CreateSelfSignedCa(key, td, now, absl::Hours(1)).status().code(),
              absl::StatusCode::kInvalidArgument)
        << td;
  }
  EXPECT_EQ(
      CreateSelfSignedCa(key, kTd, now, absl::ZeroDuration()).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CreateSelfSignedCa(key, kTd, now, absl::InfiniteDuration())
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      CreateSelfSignedCa("garbage", kTd, now, absl::Hours(1)).status().code(),
      absl::StatusCode::kInvalidArgument);
  keyspb::Specification ed25519;
  ed25519.mutable_ed25519_params();
  absl::StatusOr<crypto::PrivateKey> ed = crypto::GenerateKey(ed25519);
  ASSERT_TRUE(ed.ok());
  EXPECT_EQ(CreateSelfSignedCa(*crypto::MarshalPrivateKey(**ed), kTd, now,
                               absl::Hours(1))
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ParseCsrTest, ReadsKeyAndSans) {
  crypto::PrivateKey key = NewKey(KeyType::kEcP384);
  absl::StatusOr<CertificateRequest> csr = ParseCsr(
      MakeCsr(key.get(),
              "URI:spiffe://example.org/a,DNS:a.example.org,"
              "email:x@example.org,IP:10.0.0.1,URI:spiffe://example.org/b",
              EVP_sha384()),
      true);
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_EQ(csr->uri_sans,
            (std::vector<std::string>{"spiffe://example.org/a",
                                      "spiffe://example.org/b"}));
  EXPECT_EQ(csr->dns_sans, std::vector<std::string>{"a.example.org"});
  EXPECT_EQ(csr->public_key_der, *crypto::MarshalPublicKey(*key));

  // Without any extension request.
  csr = ParseCsr(MakeCsr(key.get(), ""), true);
  ASSERT_TRUE(csr.ok()) << csr.status();
  EXPECT_TRUE(csr->uri_sans.empty());
  EXPECT_TRUE(csr->dns_sans.empty());
}

TEST(ParseCsrTest, RejectsGarbageAndBadSignatures) {
  crypto::PrivateKey key = NewKey(KeyType::kEcP256);
  const std::string good = MakeCsr(key.get(), absl::StrCat("URI:", kWorkload));
  ASSERT_TRUE(ParseCsr(good, true).ok());

  std::string bad_sig = good;
  bad_sig.back() ^= 0x01;
  absl::StatusOr<CertificateRequest> csr = ParseCsr(bad_sig, true);
  EXPECT_EQ(csr.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(csr.status().message(), "signature"))
      << csr.status();
  // Only the key is used when the caller does not care.
  EXPECT_TRUE(ParseCsr(bad_sig, false).ok());

  const std::string cases[] = {
      "",
      "garbage",
      good.substr(0, good.size() / 2),
      good + std::string(1, '\0'),
      std::string(kMaxCsrSize + 1, '\x30'),
      // A certificate is not a CSR.
      *CreateSelfSignedCa(*GeneratePrivateKey(KeyType::kEcP256), kTd, Now(),
                          absl::Hours(1)),
  };
  for (const std::string &c : cases) {
    EXPECT_EQ(ParseCsr(c, false).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
}

// What OpenSSL's own parser makes of a CSR: ok (parsed, signature verified,
// extensions readable) and its URI and DNS names.
struct OpenSslView {
  bool ok = false;
  std::vector<std::string> uris, dns;
};
OpenSslView ParseWithOpenSsl(const std::string &der) {
  OpenSslView view;
  const unsigned char *p = reinterpret_cast<const unsigned char *>(der.data());
  X509_REQ *req = d2i_X509_REQ(nullptr, &p, static_cast<long>(der.size()));
  if (req != nullptr &&
      p == reinterpret_cast<const unsigned char *>(der.data()) + der.size() &&
      X509_REQ_get0_pubkey(req) != nullptr &&
      X509_REQ_verify(req, X509_REQ_get0_pubkey(req)) == 1) {
    STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(req);
    const bool has_request =
        X509_REQ_get_attr_by_NID(req, NID_ext_req, -1) >= 0;
    int critical = -1;
    GENERAL_NAMES *names =
        exts == nullptr ? nullptr
                        : static_cast<GENERAL_NAMES *>(X509V3_get_d2i(
                              exts, NID_subject_alt_name, &critical, nullptr));
    view.ok = (exts != nullptr || !has_request) &&
              (names != nullptr || critical == -1);
    for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
      int type = 0;
      const auto *value = static_cast<const ASN1_STRING *>(
          GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names, i), &type));
      if (type != GEN_URI && type != GEN_DNS) continue;
      (type == GEN_URI ? view.uris : view.dns)
          .emplace_back(
              reinterpret_cast<const char *>(ASN1_STRING_get0_data(value)),
              ASN1_STRING_length(value));
    }
    GENERAL_NAMES_free(names);
    sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  }
  X509_REQ_free(req);
  ERR_clear_error();
  return view;
}

// ParseCsr reads EC requests itself (OpenSSL 3.0's key decoding is slow):
// on every one-byte change of real requests it must agree with OpenSSL.
TEST(ParseCsrTest, AgreesWithOpenSslOnEveryByteFlip) {
  for (KeyType type : {KeyType::kEcP256, KeyType::kEcP384}) {
    crypto::PrivateKey key = NewKey(type);
    const std::string good = MakeCsr(
        key.get(), "URI:spiffe://example.org/a,DNS:a.example.org,IP:10.0.0.1");
    for (size_t at = 0; at < good.size(); ++at) {
      for (unsigned char flip : {0x01, 0x80, 0xff}) {
        std::string changed = good;
        changed[at] = static_cast<char>(changed[at] ^ flip);
        const OpenSslView expected = ParseWithOpenSsl(changed);
        absl::StatusOr<CertificateRequest> got = ParseCsr(changed, true);
        ASSERT_EQ(got.ok(), expected.ok)
            << "byte " << at << " ^ " << int{flip} << ": " << got.status();
        if (got.ok()) {
          EXPECT_EQ(got->uri_sans, expected.uris);
          EXPECT_EQ(got->dns_sans, expected.dns);
        }
      }
    }
    // The unchanged request parses the same way too.
    const OpenSslView expected = ParseWithOpenSsl(good);
    absl::StatusOr<CertificateRequest> got = ParseCsr(good, true);
    ASSERT_TRUE(expected.ok && got.ok());
    EXPECT_EQ(got->uri_sans, expected.uris);
    EXPECT_EQ(got->dns_sans, expected.dns);
    EXPECT_EQ(got->public_key_der, *crypto::MarshalPublicKey(*key));
  }
}

TEST(ParseCsrTest, RejectsOversizeEvenIfValid) {
  crypto::PrivateKey key = NewKey(KeyType::kEcP256);
  // A large but well-formed CSR: many DNS SANs.
  std::string sans = "URI:spiffe://example.org/big";
  for (int i = 0; i < 6000; ++i) absl::StrAppend(&sans, ",DNS:host", i, ".x");
  const std::string big = MakeCsr(key.get(), sans);
  ASSERT_GT(big.size(), kMaxCsrSize);
  absl::StatusOr<CertificateRequest> csr = ParseCsr(big, true);
  EXPECT_EQ(csr.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(csr.status().message(), "limit"));
}

TEST(HelpersTest, ReadersRejectGarbage) {
  EXPECT_EQ(NotAfter("x").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(GetValidity("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SerialNumber("x").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(SubjectKeyId("x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(HelpersTest, SubjectKeyIdNotFound) {
  // crypto/self_signed.cc adds no SKI.
  absl::StatusOr<crypto::CertificateAndKey> tls =
      crypto::SelfSignedCertificate("localhost");
  ASSERT_TRUE(tls.ok());
  BIO *bio = BIO_new_mem_buf(tls->certificate_pem.data(),
                             static_cast<int>(tls->certificate_pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr), X509_free);
  BIO_free(bio);
  ASSERT_NE(cert, nullptr);
  unsigned char *der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  const std::string cert_der(reinterpret_cast<char *>(der), len);
  OPENSSL_free(der);
  EXPECT_EQ(SubjectKeyId(cert_der).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(HelpersTest, DerToPem) {
  EXPECT_EQ(DerToPem("\x01\x02\x03", "X"),
            "-----BEGIN X-----\nAQID\n-----END X-----\n");
  const std::string ca = *CreateSelfSignedCa(
      *GeneratePrivateKey(KeyType::kRsa2048), kTd, Now(), absl::Hours(1));
  const std::string pem = DerToPem(ca, "CERTIFICATE");
  for (absl::string_view line : absl::StrSplit(pem, '\n')) {
    EXPECT_LE(line.size(), 64u);
  }
  BIO *bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509Ptr cert(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr), X509_free);
  BIO_free(bio);
  ASSERT_NE(cert, nullptr);
  unsigned char *der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  EXPECT_EQ(std::string(reinterpret_cast<char *>(der), len), ca);
  OPENSSL_free(der);
}

// The openssl CLI agrees: chain, purposes and strict X.509 checks.
TEST_F(SvidTest, OpensslCliVerifies) {
  tmpl_.dns_names = {"web.example.org"};
  absl::StatusOr<std::string> svid = SignX509Svid(issuer_, tmpl_);
  ASSERT_TRUE(svid.ok());
  ::trellis::testing::TempDir dir;
  const std::string ca_path = dir.path() + "/ca.pem";
  const std::string leaf_path = dir.path() + "/leaf.pem";
  std::ofstream(ca_path) << DerToPem(issuer_.cert_der, "CERTIFICATE");
  std::ofstream(leaf_path) << DerToPem(*svid, "CERTIFICATE");
  for (const char *purpose : {"sslserver", "sslclient"}) {
    const std::string cmd =
        absl::StrCat("openssl verify -x509_strict -purpose ", purpose,
                     " -CAfile ", ca_path, " ", leaf_path, " 2>&1");
    FILE *pipe = popen(cmd.c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string out;
    char buf[256];
    while (fgets(buf, sizeof(buf), pipe) != nullptr) out += buf;
    EXPECT_EQ(pclose(pipe), 0) << out;
    EXPECT_EQ(out, leaf_path + ": OK\n");
  }
}

}  // namespace
}  // namespace trellis::ca
