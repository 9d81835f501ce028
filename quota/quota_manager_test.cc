#include "quota/quota_manager.h"

#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace trellis::quota {
namespace {

using ::testing::HasSubstr;

Limit L(double rate, double burst) { return Limit{rate, burst}; }

Charge Write(int64_t tree, int64_t tokens,
             std::vector<std::string> users = {}) {
  return Charge{tree, Kind::kWrite, tokens, std::move(users)};
}

// The value of `name`{spec=`spec`} in `registry`, 0 if absent.
double Counted(prometheus::Registry& registry, const std::string& name,
               const std::string& spec) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const prometheus::ClientMetric::Label& label : metric.label) {
        if (label.name == "spec" && label.value == spec) {
          return metric.counter.value;
        }
      }
    }
  }
  return 0;
}

class QuotaManagerTest : public ::testing::Test {
 protected:
  QuotaManager Make(QuotaOptions options) {
    return QuotaManager(std::move(options), &registry_,
                        [this] { return now_; });
  }
  absl::Time now_ = absl::FromUnixSeconds(1000);
  prometheus::Registry registry_;
};

TEST_F(QuotaManagerTest, NoLimitsChargeNothing) {
  QuotaManager quotas = Make({});
  EXPECT_FALSE(quotas.enabled());
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(quotas.Acquire(Write(1, 1000000)).ok());
  }
}

TEST_F(QuotaManagerTest, TreeWriteQuotaIsPerTreeAndRefills) {
  QuotaOptions options;
  options.tree_write = L(10, 100);
  QuotaManager quotas = Make(options);
  EXPECT_TRUE(quotas.enabled());
  EXPECT_TRUE(quotas.Acquire(Write(1, 60)).ok());
  absl::Status refused = quotas.Acquire(Write(1, 60));
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(),
              HasSubstr("trees/1/write holds 40 of the 60 tokens this call "
                        "costs (it refills at 10 a second); retry in 2s"));
  EXPECT_TRUE(quotas.Acquire(Write(2, 60)).ok()) << "trees are separate";
  EXPECT_TRUE(quotas.Acquire(Charge{1, Kind::kRead, 500, {}}).ok())
      << "reads have quotas of their own";
  now_ += absl::Seconds(2);
  EXPECT_TRUE(quotas.Acquire(Write(1, 60)).ok());
  absl::Status too_big = quotas.Acquire(Write(2, 101));
  EXPECT_EQ(too_big.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(too_big.message(), HasSubstr("holds at most 100; send smaller"));
  EXPECT_EQ(Counted(registry_, "trellis_quota_refused_requests_total",
                    "trees/1/write"),
            1);
  EXPECT_EQ(Counted(registry_, "trellis_quota_acquired_tokens_total",
                    "trees/1/write"),
            120);
}

TEST_F(QuotaManagerTest, ChargeIsAllOrNothing) {
  QuotaOptions options;
  options.user_write = L(1, 10);
  options.tree_write = L(1, 100);
  QuotaManager quotas = Make(options);
  EXPECT_TRUE(quotas.Acquire(Write(1, 10, {"alice"})).ok());
  // Alice is out: the tree's tokens are not spent on her refused call.
  for (int i = 0; i < 20; ++i) {
    absl::Status s = quotas.Acquire(Write(1, 5, {"alice"}));
    EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
    EXPECT_THAT(s.message(), HasSubstr("users/alice/write"));
  }
  // 90 left in the tree: bob's call charged to two users is refused as a
  // whole when one of them is out, and costs bob nothing.
  EXPECT_FALSE(quotas.Acquire(Write(1, 10, {"bob", "alice"})).ok());
  EXPECT_TRUE(quotas.Acquire(Write(1, 10, {"bob"})).ok());
  EXPECT_TRUE(quotas.Acquire(Write(1, 10, {"carol"})).ok());
  for (int i = 0; i < 7; ++i) {
    ASSERT_TRUE(quotas.Acquire(Write(1, 10, {absl::StrCat("u", i)})).ok());
  }
  absl::Status tree_out = quotas.Acquire(Write(1, 10, {"dave"}));
  EXPECT_THAT(tree_out.message(), HasSubstr("trees/1/write"));
  EXPECT_EQ(
      Counted(registry_, "trellis_quota_refused_requests_total", "users/write"),
      21);
}

TEST_F(QuotaManagerTest, PerTreeLimitsReplaceTheDefault) {
  QuotaOptions options;
  options.tree_write = L(1, 10);
  std::string error;
  ASSERT_TRUE(
      AbslParseFlag("7=1000:5000, 8=0", &options.tree_write_by_tree, &error))
      << error;
  QuotaManager quotas = Make(options);
  EXPECT_TRUE(quotas.Acquire(Write(7, 5000)).ok());
  EXPECT_FALSE(quotas.Acquire(Write(7, 1)).ok());
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(quotas.Acquire(Write(8, 1000)).ok()) << "tree 8: no limit";
  }
  EXPECT_FALSE(quotas.Acquire(Write(9, 11)).ok());
}

TEST_F(QuotaManagerTest, OnlyTheGlobalQuotaIsRefunded) {
  QuotaOptions options;
  options.global_write = L(1, 100);
  options.tree_write = L(1, 100);
  QuotaManager quotas = Make(options);
  const Charge first = Write(1, 100);
  ASSERT_TRUE(quotas.Acquire(first).ok());
  quotas.Return(first, 100);  // e.g. all duplicates
  EXPECT_FALSE(quotas.Acquire(Write(1, 1)).ok()) << "the tree still paid";
  EXPECT_TRUE(quotas.Acquire(Write(2, 100)).ok()) << "global was refunded";
  EXPECT_EQ(
      Counted(registry_, "trellis_quota_returned_tokens_total", "global/write"),
      100);
}

TEST_F(QuotaManagerTest, DryRunCountsButLetsThrough) {
  QuotaOptions options;
  options.tree_write = L(1, 1);
  options.dry_run = true;
  QuotaManager quotas = Make(options);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(quotas.Acquire(Write(1, 1)).ok());
  EXPECT_EQ(Counted(registry_, "trellis_quota_refused_requests_total",
                    "trees/1/write"),
            4);
}

TEST_F(QuotaManagerTest, ChargeToIsBounded) {
  QuotaOptions options;
  options.user_write = L(1, 10);
  QuotaManager quotas = Make(options);
  EXPECT_EQ(
      quotas.Acquire(Write(1, 1, std::vector<std::string>(9, "u"))).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(quotas.Acquire(Write(1, 1, {std::string(129, 'u')})).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(quotas.Acquire(Write(1, 1, {""})).code(),
            absl::StatusCode::kInvalidArgument);
  // Without user quotas of that kind, charge_to is not looked at.
  EXPECT_TRUE(
      quotas
          .Acquire(Charge{1, Kind::kRead, 1, std::vector<std::string>(9, "u")})
          .ok());
}

TEST(LimitTest, TextForms) {
  std::string error;
  Limit limit;
  ASSERT_TRUE(AbslParseFlag("1000:5000", &limit, &error));
  EXPECT_EQ(limit.rate, 1000);
  EXPECT_EQ(limit.burst, 5000);
  EXPECT_EQ(AbslUnparseFlag(limit), "1000:5000");
  ASSERT_TRUE(AbslParseFlag("0.5", &limit, &error));
  EXPECT_EQ(limit.burst, 1) << "one second's worth, at least one token";
  EXPECT_EQ(AbslUnparseFlag(limit), "0.5:1");
  ASSERT_TRUE(AbslParseFlag("", &limit, &error));
  EXPECT_TRUE(limit.unlimited());
  EXPECT_EQ(AbslUnparseFlag(limit), "");
  for (const char* bad : {"x", "-1", "1:2:3", "10:0.5", "nan", "1e300"}) {
    EXPECT_FALSE(AbslParseFlag(bad, &limit, &error)) << bad;
    EXPECT_FALSE(error.empty());
  }
  TreeLimits trees;
  ASSERT_TRUE(AbslParseFlag("7=10:20,3=0", &trees, &error)) << error;
  EXPECT_EQ(AbslUnparseFlag(trees), "3=0,7=10:20");
  for (const char* bad : {"7", "x=1", "7=1,7=2", "-1=5", "7=abc"}) {
    EXPECT_FALSE(AbslParseFlag(bad, &trees, &error)) << bad;
  }
}

}  // namespace
}  // namespace trellis::quota
