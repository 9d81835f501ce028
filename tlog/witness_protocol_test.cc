#include "tlog/witness_protocol.h"

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace trellis::tlog {
namespace {

TEST(WitnessProtocolTest, RequestsRoundTrip) {
  AddCheckpointRequest request;
  request.old_size = 20852014;
  request.proof = {std::string(32, 'a'), std::string(32, 'b')};
  request.checkpoint_note = "origin\n5\nroot\n\n— origin sig\n";
  auto body = FormatAddCheckpointRequest(request);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ(*body, "old 20852014\n" + absl::Base64Escape(std::string(32, 'a')) +
                       "\n" + absl::Base64Escape(std::string(32, 'b')) +
                       "\n\norigin\n5\nroot\n\n— origin sig\n");
  auto parsed = ParseAddCheckpointRequest(*body);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->old_size, request.old_size);
  EXPECT_EQ(parsed->proof, request.proof);
  EXPECT_EQ(parsed->checkpoint_note, request.checkpoint_note);

  auto empty = ParseAddCheckpointRequest("old 0\n\nnote\n");
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->old_size, 0u);
  EXPECT_TRUE(empty->proof.empty());
}

TEST(WitnessProtocolTest, MalformedRequestsAreRefused) {
  const std::string hash = absl::Base64Escape(std::string(32, 'h')) + "\n";
  std::string too_many = "old 1\n";
  for (int i = 0; i < 64; ++i) too_many += hash;
  too_many += "\nnote\n";
  for (const std::string& body :
       {std::string(""), std::string("old 01\n\nnote\n"),
        std::string("old -1\n\nnote\n"), std::string("old 1"),
        std::string("new 1\n\nnote\n"), std::string("old  1\n\nnote\n"),
        std::string("old 1\n") + hash, std::string("old 1\n") + hash + "\n",
        std::string("old 1\nAAAA\n\nnote\n"),
        // Non-canonical: unused low bits set in the last character.
        std::string("old 1\n") + hash.substr(0, 42) + "h=\n\nn\n",
        std::string("old 18446744073709551616\n\nnote\n"), too_many}) {
    EXPECT_EQ(ParseAddCheckpointRequest(body).status().code(),
              absl::StatusCode::kInvalidArgument)
        << body;
  }
  AddCheckpointRequest request;
  request.proof.assign(64, std::string(32, 'x'));
  EXPECT_FALSE(FormatAddCheckpointRequest(request).ok());
  request.proof.assign(1, "short");
  EXPECT_FALSE(FormatAddCheckpointRequest(request).ok());
}

TEST(WitnessProtocolTest, SubmissionPrefixes) {
  auto plain = ParseSubmissionPrefix("http://127.0.0.1:8091");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->origin, "http://127.0.0.1:8091");
  EXPECT_EQ(plain->path, "");
  auto with_path = ParseSubmissionPrefix("https://w.example/api/");
  ASSERT_TRUE(with_path.ok());
  EXPECT_EQ(with_path->origin, "https://w.example");
  EXPECT_EQ(with_path->path, "/api");
  for (const char* bad : {"w.example/", "ftp://w.example", "http://",
                          "http:///x", "http://w .example", "http://:80"}) {
    EXPECT_FALSE(ParseSubmissionPrefix(bad).ok()) << bad;
  }
}

TEST(WitnessProtocolTest, SizeBodies) {
  EXPECT_EQ(FormatTlogSize(42), "42\n");
  EXPECT_EQ(*ParseTlogSize("42\n"), 42u);
  EXPECT_EQ(*ParseTlogSize("0\n"), 0u);
  for (const char* bad : {"42", "042\n", "\n", "x\n", "4 2\n"}) {
    EXPECT_FALSE(ParseTlogSize(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace trellis::tlog
