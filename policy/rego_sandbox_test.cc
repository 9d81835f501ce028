#include "policy/rego_sandbox.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace trellis::policy {
namespace {

constexpr char kQuery[] = "data.verification.result";
constexpr char kPolicy[] = R"(package verification
default result := {"policy_matched": false}
result := {"policy_matched": true, "custom_data": {"n": count(input.items)}} {
  input.kind == "good"
}
)";

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

std::unique_ptr<RegoProgram> MustCompile(RegoSandbox& sandbox,
                                         const std::string& text) {
  auto program = sandbox.Compile({{"policy.rego", text}});
  EXPECT_TRUE(program.ok()) << program.status();
  return std::move(program).value_or(nullptr);
}

void ExpectGoodVerdict(const RegoProgram& program) {
  auto result = program.Evaluate(kQuery, R"({"kind":"good","items":[1,2,3]})");
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->has_value());
  EXPECT_EQ(nlohmann::json::parse(**result),
            nlohmann::json::parse(
                R"({"custom_data":{"n":3},"policy_matched":true})"));
}

// True once `pid` has exited (a zombie counts: its parent reaps it later).
// A worker has a second thread: its main thread shows as a zombie while
// that one still exits, and the parent cannot reap it until both are gone.
bool Exited(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  if (!stat) return true;
  std::string line((std::istreambuf_iterator<char>(stat)), {});
  const size_t paren = line.rfind(')');
  if (paren == std::string::npos || paren + 2 >= line.size()) return true;
  if (line[paren + 2] != 'Z') return false;
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string field;
  while (std::getline(status, field)) {
    if (absl::StartsWith(field, "Threads:")) {
      return absl::StripAsciiWhitespace(field.substr(8)) == "1";
    }
  }
  return true;
}

void WaitUntilExited(pid_t pid) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!Exited(pid) && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_TRUE(Exited(pid)) << pid;
}

TEST(RegoSandboxTest, EvaluatesInAWorkerProcess) {
  RegoSandbox sandbox;
  auto program = MustCompile(sandbox, kPolicy);
  ASSERT_NE(program, nullptr);
  ExpectGoodVerdict(*program);
  auto other = program->Evaluate(kQuery, R"({"kind":"bad"})");
  ASSERT_TRUE(other.ok() && other->has_value()) << other.status();
  EXPECT_EQ(nlohmann::json::parse(**other)["policy_matched"], false);
  // The evaluation ran elsewhere.
  const std::vector<pid_t> pids = sandbox.WorkerPids();
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_NE(pids[0], getpid());

  auto undefined =
      MustCompile(sandbox, "package verification\nresult = 1 { input.x }\n");
  auto none = undefined->Evaluate(kQuery, "{}");
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->has_value());

  auto bad_input = program->Evaluate(kQuery, "{not json");
  EXPECT_TRUE(absl::IsInvalidArgument(bad_input.status()))
      << bad_input.status();
  auto over_cap =
      program->Evaluate(kQuery, R"({"kind":"good","items":[]})", 10);
  EXPECT_TRUE(absl::IsInvalidArgument(over_cap.status())) << over_cap.status();
  EXPECT_NE(over_cap.status().message().find("limit"), std::string::npos);
}

TEST(RegoSandboxTest, ParseErrorsComeBackFromCompile) {
  RegoSandbox sandbox;
  auto program =
      sandbox.Compile({{"broken.rego", "package verification\nresult := {"}});
  ASSERT_TRUE(absl::IsInvalidArgument(program.status())) << program.status();
  EXPECT_NE(program.status().message().find("Failed to compile policy"),
            std::string::npos);
}

TEST(RegoSandboxTest, RunawayAllocationCostsOnlyItsWorker) {
#ifdef UNDER_ASAN
  GTEST_SKIP() << "the address-space limit is off under ASan";
#endif
  RegoSandbox sandbox({.workers = 1, .memory_limit_bytes = size_t{512} << 20});
  auto good = MustCompile(sandbox, kPolicy);
  ExpectGoodVerdict(*good);
  const pid_t first = sandbox.WorkerPids().at(0);
  // About 2.4 GB of values, over the 512 MiB limit: regorus aborts.
  auto hungry = MustCompile(sandbox, R"(package verification
result := {"policy_matched": count(numbers.range(0, 100000000)) > 0}
)");
  auto result = hungry->Evaluate(kQuery, "{}");
  ASSERT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
  EXPECT_NE(result.status().message().find("memory"), std::string::npos)
      << result.status();
  // The same sandbox goes on, on a new worker that loads the program again.
  ExpectGoodVerdict(*good);
  EXPECT_NE(sandbox.WorkerPids().at(0), first);
  // The far larger allocation that used to abort trellisd itself.
  auto huge = MustCompile(sandbox, R"(package verification
result := {"policy_matched": count(numbers.range(0, 1e12)) > 0}
)");
  EXPECT_TRUE(absl::IsInvalidArgument(huge->Evaluate(kQuery, "{}").status()));
  ExpectGoodVerdict(*good);
}

TEST(RegoSandboxTest, EvaluationsPastTheTimeoutAreStopped) {
  RegoSandbox sandbox({.workers = 1, .timeout = absl::Milliseconds(300)});
  auto good = MustCompile(sandbox, kPolicy);
  ExpectGoodVerdict(*good);
  const pid_t first = sandbox.WorkerPids().at(0);
  // Ten billion iterations.
  auto slow = MustCompile(sandbox, R"(package verification
result := {"policy_matched": count({1 | numbers.range(0, 100000)[_]; numbers.range(0, 100000)[_]}) > 0}
)");
  const absl::Time start = absl::Now();
  auto result = slow->Evaluate(kQuery, "{}");
  ASSERT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
  EXPECT_NE(result.status().message().find("ran longer than 300ms"),
            std::string::npos)
      << result.status();
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
  WaitUntilExited(first);
  ExpectGoodVerdict(*good);
}

TEST(RegoSandboxTest, AWorkerKilledBetweenCallsIsReplaced) {
  RegoSandbox sandbox({.workers = 1});
  auto good = MustCompile(sandbox, kPolicy);
  ExpectGoodVerdict(*good);
  const pid_t first = sandbox.WorkerPids().at(0);
  ASSERT_EQ(kill(first, SIGKILL), 0);
  WaitUntilExited(first);
  ExpectGoodVerdict(*good);
  EXPECT_NE(sandbox.WorkerPids().at(0), first);
}

TEST(RegoSandboxTest, ConcurrentCallersShareTheWorkers) {
  RegoSandbox sandbox({.workers = 2});
  auto good = MustCompile(sandbox, kPolicy);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 100; ++i) ExpectGoodVerdict(*good);
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_LE(sandbox.WorkerPids().size(), 2u);
}

// Clock ticks of CPU `pid` has used in user mode.
long UserTicks(pid_t pid) {
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string line((std::istreambuf_iterator<char>(stat)), {});
  std::istringstream fields(line.substr(line.rfind(')') + 2));
  std::string field;
  // utime is field 14; fields from 3 on follow the ')'.
  for (int i = 3; i <= 14 && fields >> field; ++i) {
  }
  return std::atol(field.c_str());
}

TEST(RegoSandboxTest, AWorkerDiesWithTrellisdEvenMidEvaluation) {
  int pid_pipe[2];
  ASSERT_EQ(pipe(pid_pipe), 0);
  const pid_t parent = fork();
  ASSERT_GE(parent, 0);
  if (parent == 0) {
    RegoSandbox sandbox({.workers = 1, .timeout = absl::Hours(1)});
    auto slow = sandbox.Compile({{"slow.rego", R"(package verification
result := count({1 | numbers.range(0, 100000)[_]; numbers.range(0, 100000)[_]})
)"}});
    if (!slow.ok()) _exit(1);
    const pid_t worker = sandbox.WorkerPids().at(0);
    if (write(pid_pipe[1], &worker, sizeof worker) != sizeof worker) _exit(1);
    (*slow)->Evaluate(kQuery, "{}").IgnoreError();
    _exit(0);
  }
  pid_t worker = 0;
  ASSERT_EQ(read(pid_pipe[0], &worker, sizeof worker), sizeof worker);
  // Wait until the worker is busy evaluating, then kill its parent.
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (UserTicks(worker) < 5 && absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  ASSERT_GE(UserTicks(worker), 5);
  ASSERT_EQ(kill(parent, SIGKILL), 0);
  ASSERT_EQ(waitpid(parent, nullptr, 0), parent);
  WaitUntilExited(worker);
}

TEST(RegoSandboxTest, WorkersStopWithTheSandbox) {
  std::vector<pid_t> pids;
  {
    RegoSandbox sandbox({.workers = 2});
    auto good = MustCompile(sandbox, kPolicy);
    ExpectGoodVerdict(*good);
    pids = sandbox.WorkerPids();
  }
  ASSERT_FALSE(pids.empty());
  for (pid_t pid : pids) EXPECT_TRUE(Exited(pid));
}

}  // namespace
}  // namespace trellis::policy
