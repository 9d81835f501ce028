#include "logging/log.h"

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "util/test_util.h"

namespace trellis::logging {
namespace {

using ::testing::HasSubstr;

const absl::Time kWhen = absl::FromUnixMicros(1764633600123456);  // 2025-12-02

TEST(LogTest, TextLinesCarryLevelComponentAndQuotedFields) {
  EXPECT_EQ(FormatLine(kWhen, Level::kError, "sequencer", "integration failed",
                       {{"tree", "42"}, {"error", "DATA_LOSS: bad \"tile\""}},
                       Format::kText),
            "2025-12-02T00:00:00.123456Z error sequencer: integration failed "
            "tree=42 error=\"DATA_LOSS: bad \\\"tile\\\"\"");
  // Empty fields are left out, in both forms.
  EXPECT_EQ(FormatLine(kWhen, Level::kInfo, "x", "m", {{"a", ""}, {"b", "1"}},
                       Format::kText),
            "2025-12-02T00:00:00.123456Z info x: m b=1");
  EXPECT_EQ(FormatLine(kWhen, Level::kInfo, "x", "m", {{"a", ""}, {"b", "1"}},
                       Format::kJson)
                .find("\"a\""),
            std::string::npos);
  // A message cannot start a second line.
  EXPECT_EQ(
      FormatLine(kWhen, Level::kInfo, "x", "a\nforged line", {}, Format::kText),
      "2025-12-02T00:00:00.123456Z info x: a forged line");
}

TEST(LogTest, JsonLinesParseWithEveryField) {
  const std::string line =
      FormatLine(kWhen, Level::kWarning, "checkpoints", "fail open",
                 {{"tree", "7"}, {"why", "no \xff quorum\n"}}, Format::kJson);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  const nlohmann::json parsed = nlohmann::json::parse(line, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << line;
  EXPECT_EQ(parsed["time"], "2025-12-02T00:00:00.123456Z");
  EXPECT_EQ(parsed["level"], "warning");
  EXPECT_EQ(parsed["component"], "checkpoints");
  EXPECT_EQ(parsed["msg"], "fail open");
  EXPECT_EQ(parsed["tree"], "7");
  EXPECT_THAT(parsed["why"].get<std::string>(), HasSubstr("quorum\n"));
}

TEST(LogTest, LevelsFilterAndFilesReceiveWholeLines) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/trellis.log";
  ASSERT_TRUE(Configure({Level::kWarning, Format::kJson, path}).ok());
  EXPECT_FALSE(Enabled(Level::kInfo));
  EXPECT_TRUE(Enabled(Level::kError));
  Info("t", "not written");
  Warning("t", "written", {{"host", "web-1"}});
  Error("t", "also written");
  ASSERT_TRUE(Configure({}).ok());  // Back to stderr, info.
  std::ifstream in(path);
  std::string first, second, third;
  ASSERT_TRUE(std::getline(in, first));
  ASSERT_TRUE(std::getline(in, second));
  EXPECT_FALSE(std::getline(in, third));
  EXPECT_EQ(nlohmann::json::parse(first)["host"], "web-1");
  EXPECT_EQ(nlohmann::json::parse(second)["msg"], "also written");
  EXPECT_FALSE(
      Configure({Level::kInfo, Format::kText, "/no/such/dir/x.log"}).ok());
}

TEST(LogTest, ReopenFollowsTheFileNameAfterRotation) {
  testing::TempDir dir;
  const std::string path = dir.path() + "/trellis.log";
  ASSERT_TRUE(ConfigureFromText("info", "text", path).ok());
  Info("t", "before rotation");
  ASSERT_EQ(rename(path.c_str(), (path + ".1").c_str()), 0);
  Info("t", "still to the moved file");
  ASSERT_TRUE(Reopen().ok());
  Info("t", "after rotation");
  ASSERT_TRUE(Configure({}).ok());
  ASSERT_TRUE(Reopen().ok());  // stderr: nothing to reopen.
  auto read = [](const std::string& file) {
    std::ifstream in(file);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string rotated = read(path + ".1");
  EXPECT_NE(rotated.find("before rotation"), std::string::npos);
  EXPECT_NE(rotated.find("still to the moved file"), std::string::npos);
  EXPECT_EQ(rotated.find("after rotation"), std::string::npos);
  EXPECT_NE(read(path).find("after rotation"), std::string::npos);
  EXPECT_EQ(ConfigureFromText("loud", "text", "").message(),
            ParseLevel("loud").status().message());
  EXPECT_FALSE(ConfigureFromText("info", "xml", "").ok());
}

TEST(LogTest, ParsesLevelsAndFormats) {
  EXPECT_EQ(*ParseLevel("DEBUG"), Level::kDebug);
  EXPECT_EQ(*ParseLevel("warn"), Level::kWarning);
  EXPECT_FALSE(ParseLevel("verbose").ok());
  EXPECT_EQ(*ParseFormat("json"), Format::kJson);
  EXPECT_FALSE(ParseFormat("xml").ok());
}

}  // namespace
}  // namespace trellis::logging
