#include "tlog/proof.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace trellis::tlog {
namespace {

constexpr char kNote[] = "example.com/log\n5\nroot\n\n— example.com/log sig\n";

TEST(TlogProofTest, RoundTripsWithAndWithoutExtra) {
  TlogProof proof;
  proof.extra = std::string("leaf\0value", 10);
  proof.index = 73894;
  proof.hashes = {std::string(32, 'a'), std::string(32, 'b')};
  proof.checkpoint_note = kNote;
  auto text = FormatTlogProof(proof);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "c2sp.org/tlog-proof@v1\nextra " +
                       absl::Base64Escape(*proof.extra) + "\nindex 73894\n" +
                       absl::Base64Escape(std::string(32, 'a')) + "\n" +
                       absl::Base64Escape(std::string(32, 'b')) + "\n\n" +
                       kNote);
  auto parsed = ParseTlogProof(*text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->extra, proof.extra);
  EXPECT_EQ(parsed->index, proof.index);
  EXPECT_EQ(parsed->hashes, proof.hashes);
  EXPECT_EQ(parsed->checkpoint_note, kNote);

  auto bare = ParseTlogProof(
      std::string("c2sp.org/tlog-proof@v1\nindex 0\n\n") + kNote);
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_FALSE(bare->extra.has_value());
  EXPECT_EQ(bare->index, 0u);
  EXPECT_TRUE(bare->hashes.empty());
}

TEST(TlogProofTest, MalformedProofsAreRefused) {
  const std::string header = "c2sp.org/tlog-proof@v1\n";
  const std::string hash = absl::Base64Escape(std::string(32, 'h')) + "\n";
  for (const std::string& text :
       {std::string(""), std::string("c2sp.org/tlog-proof@v2\nindex 1\n\nn"),
        header + "index 01\n\nn", header + "index -1\n\nn",
        header + "index 1\n", header + "index 1\n" + hash,
        header + "extra !!\nindex 1\n\nn", header + "extra YQ\nindex 1\n\nn",
        header + "index 1\nAAAA\n\nn", header + "index 1\n\n",
        header + "index\n\nn", header + "index 1 2\n\nn"}) {
    EXPECT_EQ(ParseTlogProof(text).status().code(),
              absl::StatusCode::kInvalidArgument)
        << text;
  }
  TlogProof proof;
  proof.hashes.assign(65, std::string(32, 'x'));
  EXPECT_FALSE(FormatTlogProof(proof).ok());
}

}  // namespace
}  // namespace trellis::tlog
