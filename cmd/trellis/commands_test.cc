#include "cmd/trellis/commands.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "util/test_util.h"

namespace trellis::cli {
namespace {

using ::trellis::testing::TempDir;

struct ShellRun {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `shell` on `script`, from the runfiles directory (where the real
// cmd/trellis/trellis is).
ShellRun RunShell(const std::string& shell, const std::string& script,
                  const TempDir& dir) {
  const std::string err_file = dir.path() + "/stderr";
  ShellRun run;
  std::FILE* pipe =
      popen(absl::StrCat(shell, " ", script, " 2>", err_file).c_str(), "r");
  if (pipe == nullptr) return run;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) {
    run.out.append(buffer, n);
  }
  const int status = pclose(pipe);
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream err(err_file);
  run.err.assign(std::istreambuf_iterator<char>(err), {});
  return run;
}

TEST(CommandsTest, SuggestionsForTypos) {
  EXPECT_EQ(UnknownWord("command", "tre", {"tree", "log", "map"}),
            "unknown command \"tre\"; did you mean \"tree\"?");
  EXPECT_EQ(UnknownWord("log command", "apend", FindCommand("log")->verbs),
            "unknown log command \"apend\"; did you mean \"append\"?");
  EXPECT_EQ(UnknownWord("command", "zzzzzz", {"tree", "log"}),
            "unknown command \"zzzzzz\"; choose from tree, log");
  EXPECT_EQ(Suggest("verify-prof", {"verify-proof", "verify-map-proof"}),
            "verify-proof");
}

TEST(CommandsTest, HelpNamesEveryCommand) {
  const std::string help = HelpText();
  for (const CommandSpec& command : Commands()) {
    EXPECT_NE(help.find("trellis " + command.usage), std::string::npos)
        << command.name;
  }
}

// What bash's completion offers for a command line (the words, the last
// being completed), with the script the real binary prints.
std::string BashComplete(const std::string& line) {
  TempDir dir;
  const std::string script = dir.path() + "/complete.sh";
  std::ofstream(script) << "eval \"$(cmd/trellis/trellis completion bash)\"\n"
                        << "COMP_WORDS=(" << line << ")\n"
                        << "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
                        << "_trellis\n"
                        << "printf '%s\\n' \"${COMPREPLY[@]}\"\n";
  ShellRun result = RunShell("/bin/bash", script, dir);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  return result.out;
}

TEST(CompletionTest, BashCompletesCommandsVerbsFlagsAndValues) {
  EXPECT_EQ(BashComplete("trellis tr"), "tree\n");
  EXPECT_EQ(BashComplete("trellis tree l"), "list\n");
  EXPECT_EQ(BashComplete("trellis --output = json log ap"), "append\n");
  EXPECT_EQ(BashComplete("trellis log append 42 --wa"), "--wait\n");
  // Typing "--output=" then TAB: bash's last word is the "=".
  EXPECT_EQ(BashComplete("trellis tree list --output ="),
            "auto\njson\ntable\n");
  EXPECT_EQ(BashComplete("trellis tree create --type = P"), "PREORDERED_LOG\n");
  EXPECT_EQ(BashComplete("trellis admin re"), "restore\n");
  EXPECT_EQ(BashComplete("trellis comp"), "completion\n");
}

// What the zsh completion function offers, with zsh's completion builtins
// replaced by ones that print their candidates.
std::string ZshComplete(const std::string& words, int current,
                        const std::string& prefix) {
  TempDir dir;
  const std::string script = dir.path() + "/complete.zsh";
  std::ofstream(script) << "compdef() { :; }\n"
                        << "_describe() { print -rl -- \"${(@P)2}\" }\n"
                        << "compadd() { while [[ $1 == -* ]]; do shift; done; "
                           "print -rl -- \"$@\" }\n"
                        << "compset() { :; }\n"
                        << "_files() { print files }\n"
                        << "source <(cmd/trellis/trellis completion zsh)\n"
                        << "words=(" << words << ")\nCURRENT=" << current
                        << "\nPREFIX='" << prefix << "'\n_trellis\n";
  ShellRun result = RunShell("/usr/bin/zsh -f", script, dir);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.err, "");
  return result.out;
}

TEST(CompletionTest, ZshCompletesCommandsWithTheirSummariesAndVerbs) {
  if (access("/usr/bin/zsh", X_OK) != 0) GTEST_SKIP() << "no zsh";
  const std::string commands = ZshComplete("trellis ''", 2, "");
  // Summaries with apostrophes stay whole.
  EXPECT_NE(commands.find("\nhost:forget a host's registered TPM "
                          "(operators)\n"),
            std::string::npos)
      << commands;
  EXPECT_NE(commands.find("\ngta:the GTA-compatible service's resources\n"),
            std::string::npos)
      << commands;
  EXPECT_EQ(std::count(commands.begin(), commands.end(), '\n'),
            static_cast<long>(Commands().size()));
  EXPECT_EQ(ZshComplete("trellis log ap", 3, "ap"),
            "init\nappend\nroot\nleaves\nprove\nconsistency\n");
  EXPECT_EQ(ZshComplete("trellis --output=", 2, "--output="),
            "auto\njson\ntable\n");
}

TEST(CompletionTest, ZshScriptLoadsIntoCompletionSystem) {
  if (access("/usr/bin/zsh", X_OK) != 0) GTEST_SKIP() << "no zsh";
  TempDir dir;
  const std::string script = dir.path() + "/load.zsh";
  std::ofstream(script) << "autoload -Uz compinit && compinit -u -d "
                        << dir.path() << "/zcompdump\n"
                        << "source <(cmd/trellis/trellis completion zsh)\n"
                        << "print -r -- $_comps[trellis]\n"
                        << "whence -w _trellis\n";
  ShellRun result = RunShell("/usr/bin/zsh -f", script, dir);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "_trellis\n_trellis: function\n") << result.err;
  EXPECT_EQ(result.err, "");
}

}  // namespace
}  // namespace trellis::cli
