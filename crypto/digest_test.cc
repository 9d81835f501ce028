#include "crypto/digest.h"

#include <openssl/evp.h>

#include <random>
#include <string>

#include "crypto/sha256_shani.h"
#include "gtest/gtest.h"

namespace trellis::crypto {
namespace {

std::string OpenSslDigest(const char* name, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_MD* md = EVP_MD_fetch(nullptr, name, nullptr);
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out, &len, md, nullptr), 1);
  EVP_MD_free(md);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string RandomBytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng());
  return s;
}

TEST(DigestTest, KnownAnswer) {
  // FIPS 180-4 example "abc".
  const std::string abc = Digest(DigestAlgorithm::kSha256, {"abc"});
  EXPECT_EQ(abc, OpenSslDigest("SHA2-256", "abc"));
  EXPECT_EQ(static_cast<uint8_t>(abc[0]), 0xba);
  EXPECT_EQ(static_cast<uint8_t>(abc[31]), 0xad);
}

// Every length around the block and padding boundaries, split into parts
// at every position, against OpenSSL.
TEST(DigestTest, MatchesOpenSslForAllLengthsAndSplits) {
  std::mt19937 rng(7);
  for (size_t n = 0; n <= 300; ++n) {
    const std::string data = RandomBytes(rng, n);
    const std::string want256 = OpenSslDigest("SHA2-256", data);
    const std::string want512 = OpenSslDigest("SHA2-512/256", data);
    ASSERT_EQ(Digest(DigestAlgorithm::kSha256, {data}), want256) << n;
    ASSERT_EQ(Digest(DigestAlgorithm::kSha512_256, {data}), want512) << n;
    for (size_t a = 0; a <= n; a += 1 + n / 20) {
      for (size_t b = a; b <= n; b += 1 + n / 13) {
        const absl::string_view v(data);
        ASSERT_EQ(Digest(DigestAlgorithm::kSha256,
                         {v.substr(0, a), v.substr(a, b - a), v.substr(b)}),
                  want256)
            << n << " split " << a << "," << b;
      }
    }
  }
}

TEST(DigestTest, ShaExtensionsMatchOpenSslOnLargeInputs) {
  if (!CpuHasShaExtensions()) GTEST_SKIP() << "no SHA extensions on this CPU";
  std::mt19937 rng(11);
  for (size_t n : {1000, 4096, 65537, 1 << 20}) {
    const std::string data = RandomBytes(rng, n);
    uint8_t out[32];
    Sha256ShaNi({data}, out);
    EXPECT_EQ(std::string(reinterpret_cast<char*>(out), 32),
              OpenSslDigest("SHA2-256", data))
        << n;
  }
}

}  // namespace
}  // namespace trellis::crypto
