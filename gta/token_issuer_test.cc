#include "gta/token_issuer.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/rocksdb/gta_storage.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::gta {
namespace {

using nlohmann::json;

class TokenIssuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(
        storage::rocksdb::Database::Open({dir_.path() + "/db"}).value());
    storage_ = std::make_unique<storage::rocksdb::RocksGtaStorage>(db_.get());
    crypto::KeyWrapping plain{
        [](absl::string_view, absl::string_view der) {
          return absl::StatusOr<std::string>(std::string(der));
        },
        [](absl::string_view, absl::string_view wrapped) {
          return absl::StatusOr<std::string>(std::string(wrapped));
        }};
    keys_ = KeyRing::Open(storage_.get(), plain, absl::Hours(1), [this] {
              return now_;
            }).value();
  }
  std::unique_ptr<TokenIssuer> Issuer(const std::string& algorithm) {
    TokenOptions options;
    options.algorithm = algorithm;
    return TokenIssuer::Create(keys_.get(), options, [this] { return now_; })
        .value();
  }

  // PyJWT (python3-jwt, an independent implementation) verifies `token`
  // with the JWKS; returns its decoded claims' "ueid", or "" on failure.
  std::string PyJwtVerify(const std::string& token, const json& jwks,
                          const std::string& algorithm) {
    const std::string token_file = dir_.path() + "/token";
    const std::string jwks_file = dir_.path() + "/jwks.json";
    const std::string out_file = dir_.path() + "/out";
    EXPECT_TRUE(ReplaceFile(token_file, token, 0600).ok());
    EXPECT_TRUE(ReplaceFile(jwks_file, jwks.dump(), 0600).ok());
    const std::string script = absl::StrCat(
        "import json, jwt, sys\n"
        "from jwt.algorithms import RSAPSSAlgorithm\n"
        "token = open(sys.argv[1]).read()\n"
        "kid = jwt.get_unverified_header(token)['kid']\n"
        "jwk = [k for k in json.load(open(sys.argv[2]))['keys'] "
        "if k['kid'] == kid][0]\n"
        "key = RSAPSSAlgorithm.from_jwk(json.dumps(jwk))\n"
        "claims = jwt.decode(token, key, algorithms=['",
        algorithm,
        "'])\n"
        "open(sys.argv[3], 'w').write(claims['ueid'])\n");
    EXPECT_TRUE(ReplaceFile(dir_.path() + "/check.py", script, 0600).ok());
    std::remove(out_file.c_str());
    const int rc = std::system(
        absl::StrCat("/usr/bin/python3 ", dir_.path(), "/check.py ", token_file,
                     " ", jwks_file, " ", out_file, " 2>/dev/null")
            .c_str());
    return rc == 0 ? ReadFile(out_file).value_or("") : "";
  }

  absl::Time now_ = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksGtaStorage> storage_;
  std::unique_ptr<KeyRing> keys_;
};

TEST_F(TokenIssuerTest, TokensVerifyHereAndWithPyJwt) {
  for (const char* algorithm : {"PS256", "PS384", "PS512"}) {
    SCOPED_TRACE(algorithm);
    auto issuer = Issuer(algorithm);
    auto token = issuer->Issue({{"ueid", "node-1"}, {"status", "pass"}});
    ASSERT_TRUE(token.ok()) << token.status();
    auto verified = issuer->Verify(*token);
    ASSERT_TRUE(verified.ok()) << verified.status();
    EXPECT_EQ(verified->header["alg"], algorithm);
    EXPECT_EQ(verified->header["kid"], "TSK-v1");
    EXPECT_EQ(verified->body["exp"].get<int64_t>() -
                  verified->body["iat"].get<int64_t>(),
              3600);
    EXPECT_EQ(verified->body["ver"], "1.0");
    EXPECT_EQ(verified->body["jti"].get<std::string>().size(), 36u);
    EXPECT_EQ(PyJwtVerify(*token, issuer->Jwks(), algorithm), "node-1");
    // A changed byte anywhere is refused, here and by PyJWT.
    std::string tampered = *token;
    tampered[tampered.size() / 2] =
        tampered[tampered.size() / 2] == 'A' ? 'B' : 'A';
    EXPECT_FALSE(issuer->Verify(tampered).ok());
    EXPECT_EQ(PyJwtVerify(tampered, issuer->Jwks(), algorithm), "");
  }
  EXPECT_FALSE(TokenIssuer::Create(keys_.get(), {"RS256"}).ok());
}

TEST_F(TokenIssuerTest, ExpiryNotBeforeAndRotation) {
  auto issuer = Issuer("PS256");
  auto token = issuer->Issue({{"ueid", "n"}});
  ASSERT_TRUE(token.ok());
  // After a rotation the old key still verifies during the overlap and the
  // JWKS carries both.
  ASSERT_TRUE(keys_->Rotate(kTokenKey).ok());
  EXPECT_TRUE(issuer->Verify(*token).ok());
  EXPECT_EQ(issuer->Jwks()["keys"].size(), 2u);
  auto newer = issuer->Issue({{"ueid", "n"}});
  EXPECT_EQ(issuer->Verify(*newer)->header["kid"], "TSK-v2");
  now_ += absl::Minutes(61);
  EXPECT_EQ(issuer->Verify(*token).status().message(),
            "the token signature does not verify");
  EXPECT_EQ(issuer->Jwks()["keys"].size(), 1u);
  EXPECT_EQ(issuer->Verify(*newer).status().message(), "the token has expired");
  auto future = issuer->Issue({{"ueid", "n"}});
  now_ -= absl::Minutes(5);
  EXPECT_EQ(issuer->Verify(*future).status().message(),
            "the token is not valid yet");
  EXPECT_FALSE(issuer->Verify("a.b").ok());
  EXPECT_FALSE(issuer->Verify("e30.e30.AAAA").ok());
}

}  // namespace
}  // namespace trellis::gta
