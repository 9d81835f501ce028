#include "config/flag_file.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/reflection.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

ABSL_FLAG(std::string, test_addr, "127.0.0.1:1", "An address.");
ABSL_FLAG(int, test_threads, 2, "Threads.");
ABSL_FLAG(uint64_t, test_bytes, 1024, "Bytes.");
ABSL_FLAG(double, test_rate, 1.5, "A rate.");
ABSL_FLAG(bool, test_enabled, false, "A switch.");
ABSL_FLAG(absl::Duration, test_interval, absl::Seconds(1), "An interval.");
ABSL_FLAG(std::vector<std::string>, test_features, {}, "Features.");

namespace trellis::config {
namespace {

using ::testing::HasSubstr;

class FlagFileTest : public ::testing::Test {
 private:
  absl::FlagSaver saver_;  // Every test starts from the defaults.
};

TEST_F(FlagFileTest, SetsEachKindOfFlag) {
  ASSERT_TRUE(ApplyFlagFile(R"(
test_addr = "0.0.0.0:8090"
test_threads = 8
test_bytes = 1073741824
test_rate = 0.25
test_enabled = true
test_interval = "250ms"
test_features = ["Unified-Identity", "Other"]
)",
                            "t.toml")
                  .ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_test_addr), "0.0.0.0:8090");
  EXPECT_EQ(absl::GetFlag(FLAGS_test_threads), 8);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_bytes), 1073741824u);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_rate), 0.25);
  EXPECT_TRUE(absl::GetFlag(FLAGS_test_enabled));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_interval), absl::Milliseconds(250));
  EXPECT_THAT(absl::GetFlag(FLAGS_test_features),
              ::testing::ElementsAre("Unified-Identity", "Other"));
}

TEST_F(FlagFileTest, AnIntegerIsANumber) {
  ASSERT_TRUE(ApplyFlagFile("test_rate = 3\n", "t.toml").ok());
  EXPECT_EQ(absl::GetFlag(FLAGS_test_rate), 3.0);
}

TEST_F(FlagFileTest, UnknownKeyIsAnErrorNamingItsLineAndChangesNothing) {
  absl::Status status =
      ApplyFlagFile("test_threads = 9\n\ntest_thread = 8\n", "t.toml");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("t.toml:3: unknown key"));
  EXPECT_THAT(status.message(), HasSubstr("\"test_thread\""));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_threads), 2);
}

TEST_F(FlagFileTest, WrongTypesAreErrors) {
  struct Case {
    const char* text;
    const char* message;
  } cases[] = {
      {"test_threads = \"8\"", "expected an integer"},
      {"test_enabled = \"true\"", "expected true or false"},
      {"test_addr = 80", "expected a string"},
      {"test_rate = \"fast\"", "expected a number"},
      {"test_features = \"a\"", "expected an array of strings"},
      {"test_features = [1]", "expected only strings"},
      {"test_features = [\"a,b\"]", "cannot contain commas"},
  };
  for (const Case& c : cases) {
    absl::Status status = ApplyFlagFile(c.text, "t.toml");
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_THAT(status.message(), HasSubstr(c.message)) << c.text;
  }
}

TEST_F(FlagFileTest, ValueTheFlagRefusesRestoresEarlierSettings) {
  absl::Status status = ApplyFlagFile(
      "test_addr = \"x:1\"\ntest_threads = 99999999999\n", "t.toml");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("test_threads"));
  EXPECT_EQ(absl::GetFlag(FLAGS_test_addr), "127.0.0.1:1");

  status = ApplyFlagFile("test_interval = \"soon\"\n", "t.toml");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_interval), absl::Seconds(1));
}

TEST_F(FlagFileTest, TablesSyntaxErrorsAndFileFlagsAreRefused) {
  absl::Status status = ApplyFlagFile("[gta]\naddr = \"x\"\n", "t.toml");
  EXPECT_THAT(status.message(), HasSubstr("tables are not used"));
  status = ApplyFlagFile("test_threads = 1\ntest_addr = \"open\n", "t.toml");
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("t.toml:2:"));
  // The file cannot name another file, nor end the program.
  EXPECT_THAT(ApplyFlagFile("config = \"other.toml\"", "t.toml").message(),
              HasSubstr("unknown key"));
  EXPECT_THAT(ApplyFlagFile("print_config = true", "t.toml").message(),
              HasSubstr("unknown key"));
  // Abseil's own flags are not configuration either.
  EXPECT_THAT(ApplyFlagFile("flagfile = \"x\"", "t.toml").message(),
              HasSubstr("unknown key"));
}

TEST_F(FlagFileTest, EffectiveConfigReadsBackToTheSameValues) {
  absl::SetFlag(&FLAGS_test_addr, "a \"quoted\"\\path\nwith\ttabs");
  absl::SetFlag(&FLAGS_test_threads, 7);
  absl::SetFlag(&FLAGS_test_rate, 0.1);
  absl::SetFlag(&FLAGS_test_enabled, true);
  absl::SetFlag(&FLAGS_test_interval, absl::Minutes(90));
  absl::SetFlag(&FLAGS_test_features, std::vector<std::string>{"x", "y"});
  const std::string printed = EffectiveConfig();
  EXPECT_THAT(printed, HasSubstr("# Threads.\ntest_threads = 7\n"));
  EXPECT_THAT(printed, HasSubstr("test_features = [\"x\", \"y\"]\n"));
  EXPECT_THAT(printed, ::testing::Not(HasSubstr("print_config")));
  {
    absl::FlagSaver defaults;
    absl::SetFlag(&FLAGS_test_addr, "");
    absl::SetFlag(&FLAGS_test_threads, 0);
    absl::SetFlag(&FLAGS_test_rate, 0);
    absl::SetFlag(&FLAGS_test_enabled, false);
    absl::SetFlag(&FLAGS_test_interval, absl::ZeroDuration());
    absl::SetFlag(&FLAGS_test_features, std::vector<std::string>{});
    ASSERT_TRUE(ApplyFlagFile(printed, "printed").ok());
    EXPECT_EQ(absl::GetFlag(FLAGS_test_addr), "a \"quoted\"\\path\nwith\ttabs");
    EXPECT_EQ(absl::GetFlag(FLAGS_test_threads), 7);
    EXPECT_EQ(absl::GetFlag(FLAGS_test_rate), 0.1);
    EXPECT_TRUE(absl::GetFlag(FLAGS_test_enabled));
    EXPECT_EQ(absl::GetFlag(FLAGS_test_interval), absl::Minutes(90));
    EXPECT_THAT(absl::GetFlag(FLAGS_test_features),
                ::testing::ElementsAre("x", "y"));
    EXPECT_EQ(EffectiveConfig(), printed);
  }
}

TEST_F(FlagFileTest, CommandLineOverridesTheFile) {
  const std::string path = ::testing::TempDir() + "/flags.toml";
  std::ofstream(path) << "test_threads = 5\ntest_addr = \"from-file:1\"\n";
  std::string config_arg = "--config=" + path;
  std::string threads_arg = "--test_threads=6";
  std::string program = "prog";
  std::string positional = "run";
  std::vector<char*> argv = {program.data(), config_arg.data(),
                             threads_arg.data(), positional.data()};
  std::vector<char*> rest = ParseCommandLineWithConfig(
      static_cast<int>(argv.size()), argv.data(), "prog");
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_STREQ(rest[1], "run");
  EXPECT_EQ(absl::GetFlag(FLAGS_test_threads), 6);
  EXPECT_EQ(absl::GetFlag(FLAGS_test_addr), "from-file:1");
}

}  // namespace
}  // namespace trellis::config
