#include "tlog/checkpoint.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace trellis::tlog {
namespace {

TEST(CheckpointTest, FormatsAndParses) {
  Checkpoint checkpoint;
  checkpoint.origin = "example.com/log";
  checkpoint.size = 70000;
  checkpoint.root_hash = std::string(32, '\x01');
  checkpoint.extensions = {"extra line"};
  auto text = FormatCheckpoint(checkpoint);
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text, "example.com/log\n70000\n" +
                       absl::Base64Escape(std::string(32, '\x01')) +
                       "\nextra line\n");
  auto parsed = ParseCheckpoint(*text);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->origin, "example.com/log");
  EXPECT_EQ(parsed->size, 70000u);
  EXPECT_EQ(parsed->root_hash, checkpoint.root_hash);
  EXPECT_EQ(parsed->extensions, checkpoint.extensions);
}

TEST(CheckpointTest, TheEmptyTree) {
  auto parsed =
      ParseCheckpoint("o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->size, 0u);
}

TEST(CheckpointTest, MalformedCheckpointsAreRefused) {
  const std::string root = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=";
  for (const std::string& bad : std::vector<std::string>{
           "o\n1\n" + root,                            // No final newline.
           "\n1\n" + root + "\n",                      // No origin.
           "o\n01\n" + root + "\n",                    // A leading zero.
           "o\n-1\n" + root + "\n",                    // Not a decimal.
           "o\n18446744073709551616\n" + root + "\n",  // Beyond uint64.
           std::string("o\n1\nAAAA\n"),                // Not 32 bytes.
           "o\n1\n" + root + "\n\n",                   // An empty extension.
           std::string("o\n1\n"),                      // Too few lines.
       }) {
    EXPECT_FALSE(ParseCheckpoint(bad).ok()) << bad;
  }
  Checkpoint checkpoint;
  checkpoint.origin = "o";
  checkpoint.root_hash = "short";
  EXPECT_FALSE(FormatCheckpoint(checkpoint).ok());
  checkpoint.root_hash = std::string(32, 'r');
  checkpoint.origin = "two\nlines";
  EXPECT_FALSE(FormatCheckpoint(checkpoint).ok());
}

}  // namespace
}  // namespace trellis::tlog
