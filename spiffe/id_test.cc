#include "spiffe/id.h"

#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace trellis::spiffe {
namespace {

constexpr absl::string_view kTdChars =
    "abcdefghijklmnopqrstuvwxyz0123456789.-_";
constexpr absl::string_view kPathChars =
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_";

TEST(ParseSpiffeIdTest, AcceptsValidIds) {
  struct Case {
    const char *uri;
    const char *td;
    const char *path;
  };
  const Case cases[] = {
      {"spiffe://trustdomain", "trustdomain", ""},
      {"spiffe://trustdomain/path", "trustdomain", "/path"},
      {"spiffe://trustdomain/path1/path2", "trustdomain", "/path1/path2"},
      {"spiffe://example.org/spire/agent/join_token/abc-123", "example.org",
       "/spire/agent/join_token/abc-123"},
      {"spiffe://staging.example.com/payments/web-fe", "staging.example.com",
       "/payments/web-fe"},
      {"spiffe://k8s-west.example.com/ns/staging/sa/default",
       "k8s-west.example.com", "/ns/staging/sa/default"},
      {"spiffe://td_1/Path.With-Mixed_CASE", "td_1", "/Path.With-Mixed_CASE"},
      // Only "." and ".." are dot segments.
      {"spiffe://td/.../.a/..b/a.", "td", "/.../.a/..b/a."},
  };
  for (const Case &c : cases) {
    absl::StatusOr<SpiffeId> id = ParseSpiffeId(c.uri);
    ASSERT_TRUE(id.ok()) << c.uri << ": " << id.status();
    EXPECT_EQ(id->trust_domain, c.td);
    EXPECT_EQ(id->path, c.path);
    EXPECT_EQ(id->ToString(), c.uri);
  }
}

TEST(ParseSpiffeIdTest, RejectsInvalidIds) {
  struct Case {
    std::string uri;
    const char *message;  // A fragment of the expected error.
  };
  const Case cases[] = {
      {"", "empty"},
      {"spiffe://", "trust domain is missing"},
      {"spiffe:///path", "trust domain is missing"},
      {"SPIFFE://td/path", "spiffe://"},
      {"Spiffe://td", "spiffe://"},
      {"http://td/path", "spiffe://"},
      {"spiffe:/td/path", "spiffe://"},
      {"spiffe:td", "spiffe://"},
      {"://td", "spiffe://"},
      {"td/path", "spiffe://"},
      {" spiffe://td", "spiffe://"},
      {"spiffe://Example.org", "lowercase"},
      {"spiffe://td:8080/path", "port"},
      {"spiffe://td:/path", "port"},
      {"spiffe://user@td/path", "userinfo"},
      {"spiffe://user:pw@td", "userinfo"},
      {"spiffe://[::1]/path", "port"},
      {"spiffe://td%2e/path", "character"},
      {"spiffe://td?query", "query"},
      {"spiffe://td/path?query", "query"},
      {"spiffe://td#fragment", "fragment"},
      {"spiffe://td/path#fragment", "fragment"},
      {"spiffe://td/", "trailing"},
      {"spiffe://td/path/", "trailing"},
      {"spiffe://td//path", "empty segment"},
      {"spiffe://td/a//b", "empty segment"},
      {"spiffe://td/.", "'.' or '..'"},
      {"spiffe://td/..", "'.' or '..'"},
      {"spiffe://td/./path", "'.' or '..'"},
      {"spiffe://td/a/../b", "'.' or '..'"},
      {"spiffe://td/path%20x", "character"},
      {"spiffe://td/pa th", "character"},
      {"spiffe://td/pa*th", "character"},
      {"spiffe://td/pa+th", "character"},
      {"spiffe://td/\xc3\xbc", "character"},
      {std::string("spiffe://td/a\0b", 15), "character"},
  };
  for (const Case &c : cases) {
    absl::StatusOr<SpiffeId> id = ParseSpiffeId(c.uri);
    ASSERT_FALSE(id.ok()) << c.uri;
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument) << c.uri;
    EXPECT_TRUE(absl::StrContains(id.status().message(), c.message))
        << c.uri << ": " << id.status();
  }
}

TEST(ParseSpiffeIdTest, ChecksEveryByteOfTrustDomainAndPath) {
  for (int b = 0; b < 256; ++b) {
    const char c = static_cast<char>(b);
    const std::string s(1, c);
    // '/' ends the trust domain; '?' and '#' are rejected on their own.
    if (c != '/') {
      EXPECT_EQ(ParseSpiffeId(absl::StrCat("spiffe://a", s, "b/p")).ok(),
                absl::StrContains(kTdChars, s))
          << "trust domain byte " << b;
    }
    if (c != '/') {
      EXPECT_EQ(ParseSpiffeId(absl::StrCat("spiffe://td/a", s, "b")).ok(),
                absl::StrContains(kPathChars, s))
          << "path byte " << b;
    }
  }
}

TEST(ParseSpiffeIdTest, EnforcesLengthLimits) {
  const std::string td255(255, 'a');
  EXPECT_TRUE(ParseSpiffeId("spiffe://" + td255).ok());
  EXPECT_TRUE(ParseSpiffeId("spiffe://" + td255 + "/p").ok());
  absl::StatusOr<SpiffeId> id = ParseSpiffeId("spiffe://" + td255 + "a");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(id.status().message(), "255"));

  // 2048 bytes in all: "spiffe://td/" is 12 bytes.
  const std::string max_id = "spiffe://td/" + std::string(2048 - 12, 'x');
  ASSERT_EQ(max_id.size(), 2048u);
  EXPECT_TRUE(ParseSpiffeId(max_id).ok());
  id = ParseSpiffeId(max_id + "x");
  EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(id.status().message(), "2048"));
}

TEST(ValidateTrustDomainTest, AcceptsNameOrId) {
  EXPECT_EQ(*ValidateTrustDomain("example.org"), "example.org");
  EXPECT_EQ(*ValidateTrustDomain("spiffe://example.org"), "example.org");
  EXPECT_EQ(*ValidateTrustDomain("td-1_x.y"), "td-1_x.y");
  EXPECT_EQ(*ValidateTrustDomain(std::string(255, 'z')), std::string(255, 'z'));
}

TEST(ValidateTrustDomainTest, RejectsInvalid) {
  for (const char *bad :
       {"", "spiffe://", "Example.org", "example.org:443", "user@example.org",
        "spiffe://example.org/", "spiffe://example.org/path",
        "example.org/path", "http://example.org", "SPIFFE://example.org",
        "exa mple.org", "example.org?x", "ex%41mple"}) {
    absl::StatusOr<std::string> td = ValidateTrustDomain(bad);
    EXPECT_EQ(td.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(ValidateTrustDomain(std::string(256, 'z')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(MakeSpiffeIdTest, BuildsValidIds) {
  absl::StatusOr<SpiffeId> id = MakeSpiffeId("example.org", "/spire/server");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->ToString(), "spiffe://example.org/spire/server");
  id = MakeSpiffeId("spiffe://example.org", "");
  ASSERT_TRUE(id.ok()) << id.status();
  EXPECT_EQ(id->ToString(), "spiffe://example.org");
  EXPECT_EQ(*ParseSpiffeId(id->ToString()), *id);
}

TEST(MakeSpiffeIdTest, RejectsInvalidParts) {
  const std::pair<const char *, const char *> cases[] = {
      {"Example.org", "/a"},
      {"example.org", "a"},
      {"example.org", "/"},
      {"example.org", "/a/"},
      {"example.org", "//a"},
      {"example.org", "/a/./b"},
      {"example.org", "/a?b"},
      {"example.org", "/a#b"},
      {"", "/a"},
  };
  for (const auto &[td, path] : cases) {
    EXPECT_EQ(MakeSpiffeId(td, path).status().code(),
              absl::StatusCode::kInvalidArgument)
        << td << " " << path;
  }
  EXPECT_TRUE(MakeSpiffeId("td", "/" + std::string(2048 - 12, 'x')).ok());
  EXPECT_EQ(
      MakeSpiffeId("td", "/" + std::string(2048 - 11, 'x')).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(ValidatePathTest, Basics) {
  EXPECT_TRUE(ValidatePath("").ok());
  EXPECT_TRUE(ValidatePath("/a/B/c-_.").ok());
  EXPECT_FALSE(ValidatePath("a").ok());
  EXPECT_FALSE(ValidatePath("/").ok());
  EXPECT_FALSE(ValidatePath("/a/..").ok());
}

TEST(SpiffeIdTest, Equality) {
  EXPECT_EQ((SpiffeId{"td", "/a"}), (SpiffeId{"td", "/a"}));
  EXPECT_NE((SpiffeId{"td", "/a"}), (SpiffeId{"td", "/b"}));
  EXPECT_NE((SpiffeId{"td", "/a"}), (SpiffeId{"tx", "/a"}));
}

}  // namespace
}  // namespace trellis::spiffe
