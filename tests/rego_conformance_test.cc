// The Rego engine (regorus through policy/rego_policy) against OPA, the
// reference implementation built from the Go module proxy: every policy in
// testdata/rego (the language features GTA's shipped and documented
// policies use) on every one of its inputs gives the same result, undefined
// included.
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "policy/rego_policy.h"
#include "tests/trellisd_process.h"
#include "util/file.h"

namespace trellis::testing {
namespace {

constexpr char kCorpus[] = "tests/testdata/rego";
constexpr char kQuery[] = "data.verification.result";

// OPA's answer: the value, or null if the result is undefined.
nlohmann::json OpaResult(const std::string& policy, const std::string& input) {
  CliResult run = RunProgram(PeerBinary("opa"),
                             {"eval", "--v0-compatible", "--format", "json",
                              "--data", policy, "--input", input, kQuery});
  EXPECT_EQ(run.exit_code, 0) << run.err;
  const nlohmann::json out = nlohmann::json::parse(run.out, nullptr, false);
  if (!out.contains("result")) return nullptr;
  return out["result"][0]["expressions"][0]["value"];
}

TEST(RegoConformanceTest, RegorusAgreesWithOpa) {
  ASSERT_EQ(access(PeerBinary("opa").c_str(), X_OK), 0)
      << "opa is missing: run scripts/build_peers.sh";
  // policy file -> its input files.
  std::map<std::string, std::vector<std::string>> cases;
  for (const auto& file : std::filesystem::directory_iterator(kCorpus)) {
    const std::string path = file.path().string();
    if (absl::EndsWith(path, ".rego")) cases[path];
  }
  for (const auto& file : std::filesystem::directory_iterator(kCorpus)) {
    const std::string path = file.path().string();
    if (!absl::EndsWith(path, ".json")) continue;
    const std::string name = file.path().filename().string();
    const std::string policy = absl::StrCat(
        kCorpus, "/", std::vector<std::string>(absl::StrSplit(name, '.'))[0],
        ".rego");
    ASSERT_TRUE(cases.count(policy)) << "no policy for " << path;
    cases[policy].push_back(path);
  }
  ASSERT_GE(cases.size(), 4u);
  int defined = 0, undefined = 0;
  for (const auto& [policy_path, inputs] : cases) {
    ASSERT_FALSE(inputs.empty()) << policy_path << " has no input";
    auto policy = policy::RegoPolicy::Compile(
        {{policy_path, ReadFile(policy_path).value_or("")}});
    ASSERT_TRUE(policy.ok()) << policy.status();
    for (const std::string& input : inputs) {
      SCOPED_TRACE(input);
      auto ours = (*policy)->Evaluate(kQuery, ReadFile(input).value_or(""));
      ASSERT_TRUE(ours.ok()) << ours.status();
      const nlohmann::json reference = OpaResult(policy_path, input);
      if (!ours->has_value()) {
        EXPECT_TRUE(reference.is_null()) << "OPA: " << reference.dump();
        ++undefined;
        continue;
      }
      EXPECT_EQ(nlohmann::json::parse(**ours), reference)
          << "regorus: " << **ours << "\nOPA: " << reference.dump();
      ++defined;
    }
  }
  // Both kinds of answer were compared.
  EXPECT_GE(defined, 8);
  EXPECT_GE(undefined, 2);
}

}  // namespace
}  // namespace trellis::testing
