#include "agent/unix_attestor.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace trellis::agent {
namespace {

std::vector<std::string> Values(
    const std::vector<spire::api::types::Selector>& selectors) {
  std::vector<std::string> out;
  for (const auto& s : selectors) {
    EXPECT_EQ(s.type(), "unix");
    out.push_back(s.value());
  }
  return out;
}

bool Has(const std::vector<std::string>& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// The first line of a shell command's output, independently of our code.
std::string Shell(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  char line[512] = {};
  if (pipe == nullptr || fgets(line, sizeof(line), pipe) == nullptr) {
    if (pipe != nullptr) pclose(pipe);
    return "";
  }
  pclose(pipe);
  std::string out(line);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) {
    out.pop_back();
  }
  return out;
}

TEST(UnixAttestorTest, DescribesThisProcess) {
  const PeerCredentials self{getpid(), getuid(), getgid()};
  const std::vector<std::string> all = Values(UnixSelectors(self));
  EXPECT_TRUE(Has(all, absl::StrCat("uid:", getuid())));
  EXPECT_TRUE(Has(all, absl::StrCat("gid:", getgid())));
  EXPECT_TRUE(Has(all, "user:" + Shell("id -un")));
  EXPECT_TRUE(Has(all, "group:" + Shell("id -gn")));
  const std::string exe =
      Shell(absl::StrCat("readlink /proc/", getpid(), "/exe"));
  ASSERT_FALSE(exe.empty());
  EXPECT_TRUE(Has(all, "path:" + exe));
  const std::string digest =
      Shell(absl::StrCat("sha256sum /proc/", getpid(), "/exe | cut -c1-64"));
  EXPECT_TRUE(Has(all, "sha256:" + digest)) << digest;

  // Only what is asked for beyond uid and gid.
  const std::vector<std::string> cheap =
      Values(UnixSelectors(self, {false, false, false, false, false}));
  EXPECT_EQ(cheap.size(), 2u);
}

}  // namespace
}  // namespace trellis::agent
