// Operations end to end: trellisd's configuration file and the programs'
// --print_config, against the real binaries.
#include <fstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/tlog_helpers.h"
#include "tests/trellisd_process.h"
#include "util/test_util.h"

namespace trellis::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kTrellisd[] = "cmd/trellisd/trellisd";

std::string WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

TEST(ConfigFileTest, PrintConfigIsAFileTrellisdReadsBack) {
  CliResult printed = RunProgram(kTrellisd, {"--print_config"});
  ASSERT_EQ(printed.exit_code, 0);
  EXPECT_THAT(printed.out, HasSubstr("\ngrpc_addr = \"127.0.0.1:8090\"\n"));
  EXPECT_THAT(printed.out, HasSubstr("\ncheckpoint_interval = \"1s\"\n"));
  EXPECT_THAT(printed.out, HasSubstr("\nfeature_flags = []\n"));

  TempDir dir;
  const std::string file = WriteFile(dir.path() + "/all.toml", printed.out);
  CliResult reread =
      RunProgram(kTrellisd, {"--config=" + file, "--print_config"});
  ASSERT_EQ(reread.exit_code, 0) << reread.err;
  EXPECT_EQ(reread.out, printed.out);

  // Flags override the file.
  CliResult overridden = RunProgram(
      kTrellisd, {"--config", file, "--batch_size=77", "--print_config"});
  ASSERT_EQ(overridden.exit_code, 0);
  EXPECT_THAT(overridden.out, HasSubstr("\nbatch_size = 77\n"));
}

TEST(ConfigFileTest, MistakesStopTrellisdWithTheLine) {
  TempDir dir;
  struct Case {
    std::string text;
    std::string message;
  } cases[] = {
      {"batch_size = 10\ngrpc_adr = \"127.0.0.1:1\"\n",
       "bad.toml:2: unknown key \"grpc_adr\""},
      {"batch_size = \"ten\"\n", "bad.toml:1: batch_size: expected an integer"},
      {"[gta]\naddr = \"x\"\n", "tables are not used"},
      {"batch_size = \n", "bad.toml:1:"},
  };
  for (const Case& c : cases) {
    const std::string file = WriteFile(dir.path() + "/bad.toml", c.text);
    CliResult result = RunProgram(
        kTrellisd, {"--config=" + file, "--data_dir=" + dir.path() + "/d"});
    EXPECT_EQ(result.exit_code, 2) << c.text;
    EXPECT_THAT(result.err, HasSubstr(c.message)) << c.text;
  }
  CliResult missing =
      RunProgram(kTrellisd, {"--config=" + dir.path() + "/none.toml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("none.toml"));
}

TEST(ConfigFileTest, TrellisdRunsWithTheFilesSettings) {
  TempDir dir;
  // The file turns the tiles listener off and allows 3 leaves per call; the
  // command line (TrellisdProcess's flags) turns the listener back on.
  const std::string file = WriteFile(dir.path() + "/trellisd.toml",
                                     "tlog_addr = \"\"\n"
                                     "max_leaves_per_request = 3\n");
  TrellisdProcess server(dir.path() + "/data", {"--config=" + file});
  EXPECT_GT(server.tlog_port(), 0);
  TestLog log = CreateLog(server);
  EXPECT_TRUE(Queue(server, log.id, {"a", "b", "c"}).ok());
  grpc::Status refused = Queue(server, log.id, {"d", "e", "f", "g"});
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(server.Stop(), 0);
}

TEST(ConfigFileTest, TrellisTpmAndTrellisAgentPrintTheirConfiguration) {
  CliResult tpm = RunProgram("cmd/trellis-tpm/trellis-tpm", {"--print_config"});
  ASSERT_EQ(tpm.exit_code, 0);
  EXPECT_THAT(tpm.out, HasSubstr("\nlisten = \"127.0.0.1:9002\"\n"));

  TempDir dir;
  const std::string conf = WriteFile(dir.path() + "/agent.conf", R"(
agent {
    trust_domain = "example.org"
    insecure_bootstrap = true
    join_token = "do-not-print-me"
}
)");
  CliResult agent = RunProgram(
      "cmd/trellis-agent/trellis-agent",
      {"run", "-config", conf, "--socket_path=/tmp/x.sock", "--print_config"});
  ASSERT_EQ(agent.exit_code, 0) << agent.err;
  EXPECT_THAT(agent.out, HasSubstr("trust_domain = \"example.org\""));
  EXPECT_THAT(agent.out, HasSubstr("socket_path = \"/tmp/x.sock\""));
  EXPECT_THAT(agent.out, HasSubstr("# join_token is set (not shown)"));
  EXPECT_THAT(agent.out, ::testing::Not(HasSubstr("do-not-print-me")));
}

}  // namespace
}  // namespace trellis::testing
