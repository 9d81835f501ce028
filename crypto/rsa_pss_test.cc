#include "crypto/rsa_pss.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::crypto {
namespace {

PrivateKey RsaKey() {
  keyspb::Specification spec;
  spec.mutable_rsa_params()->set_bits(3072);
  return GenerateKey(spec).value();
}

TEST(RsaPssTest, SignsAndVerifies) {
  PrivateKey key = RsaKey();
  for (PssHash hash : {PssHash::kSha256, PssHash::kSha384, PssHash::kSha512}) {
    auto signature = SignRsaPss(*key, hash, "message");
    ASSERT_TRUE(signature.ok()) << signature.status();
    EXPECT_EQ(signature->size(), 384u);
    EXPECT_TRUE(VerifyRsaPss(*key, hash, "message", *signature).ok());
    EXPECT_EQ(VerifyRsaPss(*key, hash, "messagE", *signature).code(),
              absl::StatusCode::kFailedPrecondition);
  }
  auto ec = GenerateKey(keyspb::Specification());
  EXPECT_EQ(SignRsaPss(**ec, PssHash::kSha256, "m").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// The openssl command line, told PSS with a digest-length salt, agrees; told
// a zero-length salt, it does not (the salt length is what we claim).
TEST(RsaPssTest, OpensslCliAgreesOnTheParameters) {
  testing::TempDir dir;
  PrivateKey key = RsaKey();
  const std::string spki = MarshalPublicKey(*key).value();
  ASSERT_TRUE(ReplaceFile(dir.path() + "/pub.der", spki, 0644).ok());
  ASSERT_TRUE(ReplaceFile(dir.path() + "/msg", "nonce input", 0644).ok());
  ASSERT_TRUE(
      ReplaceFile(dir.path() + "/sig",
                  SignRsaPss(*key, PssHash::kSha256, "nonce input").value(),
                  0644)
          .ok());
  auto verify = [&](const std::string& saltlen) {
    const std::string command = absl::StrCat(
        "openssl dgst -sha256 -keyform DER -verify ", dir.path(),
        "/pub.der -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:",
        saltlen, " -signature ", dir.path(), "/sig ", dir.path(),
        "/msg >/dev/null 2>&1");
    return std::system(command.c_str());
  };
  EXPECT_EQ(verify("digest"), 0);
  EXPECT_NE(verify("0"), 0);
}

}  // namespace
}  // namespace trellis::crypto
