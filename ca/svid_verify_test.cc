#include "ca/svid_verify.h"

#include "ca/testing/csr.h"
#include "ca/x509.h"
#include "gtest/gtest.h"

namespace trellis::ca {
namespace {

struct TestCa {
  Issuer issuer;
  explicit TestCa(const std::string& td) {
    issuer.key_der = GeneratePrivateKey(KeyType::kEcP256).value();
    issuer.cert_der =
        CreateSelfSignedCa(issuer.key_der, td, absl::Now(), absl::Hours(1))
            .value();
  }
  std::string Sign(const std::string& id, absl::Duration ttl = absl::Hours(1),
                   absl::Time now = absl::Now()) {
    auto key = testing::NewP256Key();
    SvidTemplate svid;
    svid.spiffe_id = id;
    svid.public_key_der = crypto::MarshalPublicKey(*key).value();
    svid.now = now;
    svid.ttl = ttl;
    return SignX509Svid(issuer, svid).value();
  }
};

TEST(SvidVerifyTest, AcceptsOnlyChainsToTheRoots) {
  TestCa ca("example.org");
  TestCa other("example.org");
  const std::string leaf = ca.Sign("spiffe://example.org/agent");
  auto verified =
      VerifySvidChain(DerToPem(leaf, "CERTIFICATE"), {ca.issuer.cert_der});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->spiffe_id, "spiffe://example.org/agent");
  EXPECT_EQ(verified->serial_number, SerialNumber(leaf).value());

  EXPECT_EQ(
      VerifySvidChain(DerToPem(leaf, "CERTIFICATE"), {other.issuer.cert_der})
          .status()
          .code(),
      absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySvidChain("", {ca.issuer.cert_der}).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifySvidChain("-----BEGIN CERTIFICATE-----\ngarbage\n"
                            "-----END CERTIFICATE-----\n",
                            {ca.issuer.cert_der})
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  // The CA certificate itself is no SVID.
  EXPECT_EQ(VerifySvidChain(DerToPem(ca.issuer.cert_der, "CERTIFICATE"),
                            {ca.issuer.cert_der})
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(SvidVerifyTest, ExpiredLeafStillIdentifiesTheCaller) {
  TestCa ca("example.org");
  const absl::Time past = absl::Now() - absl::Minutes(10);
  const std::string leaf =
      ca.Sign("spiffe://example.org/agent", absl::Minutes(1), past);
  auto verified =
      VerifySvidChain(DerToPem(leaf, "CERTIFICATE"), {ca.issuer.cert_der});
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_LT(verified->not_after, absl::Now());
}

}  // namespace
}  // namespace trellis::ca
