#include "ca/jwt.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ca/x509.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace trellis::ca {
namespace {

const absl::Time kNow = absl::FromUnixSeconds(1800000000);

struct Key {
  std::string private_der;
  std::string public_der;
  explicit Key(KeyType type) {
    private_der = GeneratePrivateKey(type).value();
    public_der =
        crypto::MarshalPublicKey(*crypto::ParsePrivateKey(private_der).value())
            .value();
  }
};

JwtSvidClaims Claims() {
  return {"spiffe://example.org/web",
          {"db", "cache"},
          kNow,
          kNow + absl::Minutes(5)};
}

nlohmann::json Part(const std::string& token, int index) {
  std::vector<std::string> parts = absl::StrSplit(token, '.');
  std::string json;
  EXPECT_TRUE(absl::WebSafeBase64Unescape(parts[index], &json));
  return nlohmann::json::parse(json);
}

class JwtTest : public ::testing::TestWithParam<KeyType> {};

TEST_P(JwtTest, SignsWhatVerifiesAndHasTheSpiffeShape) {
  Key key(GetParam());
  const std::string kid = NewJwtKeyId();
  EXPECT_EQ(kid.size(), 32u);
  auto token = SignJwtSvid(key.private_der, kid, Claims());
  ASSERT_TRUE(token.ok()) << token.status();
  const nlohmann::json header = Part(*token, 0);
  EXPECT_EQ(header.value("kid", ""), kid);
  EXPECT_EQ(header.value("typ", ""), "JWT");
  const nlohmann::json claims = Part(*token, 1);
  EXPECT_EQ(claims.value("sub", ""), "spiffe://example.org/web");
  EXPECT_EQ(claims["aud"], nlohmann::json({"db", "cache"}));
  EXPECT_EQ(claims.value("exp", 0), 1800000300);

  const absl::flat_hash_map<std::string, std::string> bundle = {
      {kid, key.public_der}};
  auto verified = VerifyJwtSvid(*token, bundle, "cache", kNow);
  ASSERT_TRUE(verified.ok()) << verified.status();
  EXPECT_EQ(verified->subject, "spiffe://example.org/web");
  EXPECT_EQ(VerifyJwtSvid(*token, bundle, "other", kNow).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyJwtSvid(*token, bundle, "db", kNow + absl::Hours(1))
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  Key other(GetParam());
  EXPECT_EQ(VerifyJwtSvid(*token, {{kid, other.public_der}}, "db", kNow)
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  // A changed claim breaks the signature.
  std::vector<std::string> parts = absl::StrSplit(*token, '.');
  nlohmann::json forged = Part(*token, 1);
  forged["sub"] = "spiffe://example.org/admin";
  parts[1] = absl::WebSafeBase64Escape(forged.dump());
  EXPECT_EQ(VerifyJwtSvid(absl::StrJoin(parts, "."), bundle, "db", kNow)
                .status()
                .code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(VerifyJwtSvid("not.a-token", bundle, "db", kNow).status().code(),
            absl::StatusCode::kInvalidArgument);
}

INSTANTIATE_TEST_SUITE_P(KeyTypes, JwtTest,
                         ::testing::Values(KeyType::kEcP256, KeyType::kEcP384,
                                           KeyType::kRsa2048));

}  // namespace
}  // namespace trellis::ca
