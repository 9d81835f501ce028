// An upstream CA (an organisation's, with no SPIFFE ID) signs the server's
// CAs: the bundle holds only the upstream roots, and SVID chains carry the
// server's CA (and the upstream intermediates) up to them.
#include "ca/upstream_ca.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ca/ca_manager.h"
#include "ca/svid_verify.h"
#include "ca/testing/csr.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "storage/rocksdb/identity_storage.h"
#include "util/test_util.h"

namespace trellis::ca {
namespace {

struct Pem {
  std::string cert;
  std::string key;
};

std::string KeyPem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string pem(data, length);
  BIO_free(bio);
  return pem;
}

// A plain CA certificate (no SAN) named `name`, signed by `issuer` (itself
// when null), as an organisation's PKI would have it.
Pem PlainCa(const std::string& name, EVP_PKEY* key, X509* issuer_cert,
            EVP_PKEY* issuer_key, X509** out_cert) {
  X509* cert = X509_new();
  X509_set_version(cert, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(cert), 30 * 24 * 3600);
  X509_set_pubkey(cert, key);
  X509_NAME_add_entry_by_txt(
      X509_get_subject_name(cert), "CN", MBSTRING_ASC,
      reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert, issuer_cert != nullptr
                                 ? X509_get_subject_name(issuer_cert)
                                 : X509_get_subject_name(cert));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert != nullptr ? issuer_cert : cert, cert,
                 nullptr, nullptr, 0);
  for (const auto& [nid, value] : std::vector<std::pair<int, const char*>>{
           {NID_basic_constraints, "critical,CA:TRUE"},
           {NID_key_usage, "critical,keyCertSign,cRLSign"},
           {NID_subject_key_identifier, "hash"}}) {
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
  }
  X509_sign(cert, issuer_key != nullptr ? issuer_key : key, EVP_sha256());
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert, &der);
  Pem pem{DerToPem(std::string(reinterpret_cast<char*>(der), length),
                   "CERTIFICATE"),
          KeyPem(key)};
  OPENSSL_free(der);
  *out_cert = cert;
  return pem;
}

class UpstreamCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(storage::rocksdb::Database::Open({dir_.path()}).value());
    storage_ =
        std::make_unique<storage::rocksdb::RocksIdentityStorage>(db_.get());
    root_key_ = testing::NewP256Key();
    intermediate_key_ = testing::NewP256Key();
    root_ =
        PlainCa("Example Root", root_key_.get(), nullptr, nullptr, &root_cert_);
    intermediate_ = PlainCa("Example Issuing CA", intermediate_key_.get(),
                            root_cert_, root_key_.get(), &intermediate_cert_);
  }
  void TearDown() override {
    X509_free(root_cert_);
    X509_free(intermediate_cert_);
  }

  std::unique_ptr<CaManager> Open(const UpstreamCa& upstream) {
    CaOptions options;
    options.trust_domain = "example.org";
    options.upstream = upstream.issuer;
    options.upstream_chain = upstream.chain;
    options.upstream_roots = upstream.roots;
    KeyWrapping plain{
        [](absl::string_view, absl::string_view der) {
          return absl::StatusOr<std::string>(std::string(der));
        },
        [](absl::string_view, absl::string_view wrapped) {
          return absl::StatusOr<std::string>(std::string(wrapped));
        }};
    auto manager = CaManager::Create(storage_.get(), options, plain);
    EXPECT_TRUE(manager.ok()) << manager.status();
    return std::move(manager).value_or(nullptr);
  }

  // An SVID of `ca` checks out against exactly the upstream roots.
  void ExpectSvidChainsToRoots(CaManager& ca, size_t chain_length) {
    crypto::PrivateKey key = testing::NewP256Key();
    absl::StatusOr<std::vector<std::string>> chain = ca.SignX509Svid(
        "spiffe://example.org/w", *crypto::MarshalPublicKey(*key), {},
        absl::ZeroDuration());
    ASSERT_TRUE(chain.ok()) << chain.status();
    EXPECT_EQ(chain->size(), chain_length);
    std::string pem;
    for (const std::string& der : *chain) pem += DerToPem(der, "CERTIFICATE");
    EXPECT_TRUE(VerifySvidChain(pem, ca.X509Roots()).ok());
    // Without the intermediates the leaf does not verify.
    EXPECT_FALSE(
        VerifySvidChain(DerToPem(chain->front(), "CERTIFICATE"), ca.X509Roots())
            .ok());
  }

  trellis::testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksIdentityStorage> storage_;
  crypto::PrivateKey root_key_, intermediate_key_;
  X509* root_cert_ = nullptr;
  X509* intermediate_cert_ = nullptr;
  Pem root_, intermediate_;
};

TEST_F(UpstreamCaTest, SelfSignedUpstreamIsTheOnlyRoot) {
  absl::StatusOr<UpstreamCa> upstream =
      ParseUpstreamCa(root_.cert, root_.key, "", "example.org");
  ASSERT_TRUE(upstream.ok()) << upstream.status();
  EXPECT_TRUE(upstream->chain.empty());
  ASSERT_EQ(upstream->roots.size(), 1u);
  auto ca = Open(*upstream);
  ASSERT_NE(ca, nullptr);
  const spire::api::types::Bundle bundle = ca->Bundle();
  ASSERT_EQ(bundle.x509_authorities_size(), 1);
  EXPECT_EQ(bundle.x509_authorities(0).asn1(), upstream->roots[0]);
  ExpectSvidChainsToRoots(*ca, 2);  // Leaf, our CA.
}

TEST_F(UpstreamCaTest, IntermediateUpstreamChainsThroughToItsRoot) {
  absl::StatusOr<UpstreamCa> upstream = ParseUpstreamCa(
      intermediate_.cert, intermediate_.key, root_.cert, "example.org");
  ASSERT_TRUE(upstream.ok()) << upstream.status();
  EXPECT_EQ(upstream->chain.size(), 1u);
  auto ca = Open(*upstream);
  ASSERT_NE(ca, nullptr);
  ExpectSvidChainsToRoots(*ca, 3);  // Leaf, our CA, the upstream CA.
  // A downstream server's CA chains the same way.
  crypto::PrivateKey downstream = testing::NewP256Key();
  absl::StatusOr<CaManager::DownstreamCa> issued = ca->SignDownstreamCa(
      *crypto::MarshalPublicKey(*downstream), absl::Hours(1));
  ASSERT_TRUE(issued.ok()) << issued.status();
  EXPECT_EQ(issued->chain.size(), 3u);
  EXPECT_EQ(issued->roots, upstream->roots);
}

TEST_F(UpstreamCaTest, RefusesWhatDoesNotHoldTogether) {
  // The key of another CA.
  EXPECT_EQ(ParseUpstreamCa(root_.cert, intermediate_.key, "", "example.org")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  // An intermediate without its root is not a root.
  EXPECT_EQ(
      ParseUpstreamCa(intermediate_.cert, intermediate_.key, "", "example.org")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  // Roots it does not chain to.
  // Roots must be roots (SVID chains are verified up to a self-signed one).
  EXPECT_EQ(ParseUpstreamCa(intermediate_.cert, intermediate_.key,
                            intermediate_.cert, "example.org")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParseUpstreamCa(root_.cert, root_.key, intermediate_.cert, "example.org")
          .status()
          .code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      ParseUpstreamCa("garbage", root_.key, "", "example.org").status().code(),
      absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trellis::ca
