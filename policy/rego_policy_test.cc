#include "policy/rego_policy.h"

#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace trellis::policy {
namespace {

constexpr char kQuery[] = "data.verification.result";

std::unique_ptr<RegoPolicy> MustCompile(const std::string& text) {
  auto policy = RegoPolicy::Compile({{"policy.rego", text}});
  EXPECT_TRUE(policy.ok()) << policy.status();
  return std::move(policy).value_or(nullptr);
}

TEST(RegoPolicyTest, EvaluatesAGtaStylePolicy) {
  auto policy = MustCompile(R"(package verification
import future.keywords.if
default matched = false
matched if { input.evidence.pcrs.hash_alg == "sha256" }
result := {"policy_matched": matched, "custom_data": {"n": count(input.evidence.pcrs.pcr_values)}}
)");
  auto result = policy->Evaluate(
      kQuery,
      R"({"evidence":{"pcrs":{"hash_alg":"sha256","pcr_values":[1,2]}}})");
  ASSERT_TRUE(result.ok()) << result.status();
  ASSERT_TRUE(result->has_value());
  EXPECT_EQ(nlohmann::json::parse(**result),
            nlohmann::json::parse(
                R"({"policy_matched":true,"custom_data":{"n":2}})"));
  result = policy->Evaluate(
      kQuery, R"({"evidence":{"pcrs":{"hash_alg":"sm3","pcr_values":[]}}})");
  ASSERT_TRUE(result.ok() && result->has_value());
  EXPECT_EQ(nlohmann::json::parse(**result)["policy_matched"], false);
}

TEST(RegoPolicyTest, UndefinedIsNotAnError) {
  auto policy = MustCompile("package verification\nresult = 1 { input.x }\n");
  auto result = policy->Evaluate(kQuery, R"({"y":1})");
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_FALSE(result->has_value());
  result = policy->Evaluate(kQuery, R"({"x":true})");
  ASSERT_TRUE(result.ok() && result->has_value());
  EXPECT_EQ(**result, "1");
}

TEST(RegoPolicyTest, RefusesBadPoliciesInputsAndHugeResults) {
  auto broken = RegoPolicy::Compile(
      {{"broken.rego", "package verification\nresult := {"}});
  ASSERT_FALSE(broken.ok());
  EXPECT_EQ(broken.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(broken.status().message().find("broken.rego"), std::string::npos)
      << broken.status();

  // Nesting deep enough to exhaust the parser's stack is refused first.
  auto deep =
      RegoPolicy::Compile({{"deep.rego", "package verification\nresult := " +
                                             std::string(100000, '(') + "1" +
                                             std::string(100000, ')')}});
  EXPECT_EQ(deep.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(RegoPolicy::Compile({{"ok.rego",
                                    "package verification\n# ((((\n"
                                    "result := \"(((\"\n"}})
                  .ok());

  // Conflicting values of a complete rule: an evaluation error.
  auto conflicting = MustCompile(
      "package verification\nresult = 1 { true }\nresult = 2 { true }\n");
  auto result = conflicting->Evaluate(kQuery, "{}");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument)
      << result.status();

  auto policy = MustCompile(
      "package verification\nresult := [x | x := numbers.range(1, "
      "input.n)[_]]\n");
  EXPECT_EQ(policy->Evaluate(kQuery, "{not json").status().code(),
            absl::StatusCode::kInvalidArgument);
  // ~600 KiB of numbers: over the 500 KiB cap.
  result = policy->Evaluate(kQuery, R"({"n":100000})");
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("limit"), std::string::npos);
  result = policy->Evaluate(kQuery, R"({"n":10})");
  ASSERT_TRUE(result.ok() && result->has_value());
  EXPECT_EQ(nlohmann::json::parse(**result).size(), 10u);
}

TEST(RegoPolicyTest, ConcurrentEvaluationsKeepTheirOwnInput) {
  auto policy = MustCompile("package verification\nresult := input.n * 2\n");
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        const int n = t * 1000 + i;
        auto result =
            policy->Evaluate(kQuery, absl::StrCat(R"({"n":)", n, "}"));
        if (!result.ok() || !result->has_value() ||
            **result != absl::StrCat(n * 2)) {
          ++wrong;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong, 0);
}

}  // namespace
}  // namespace trellis::policy
