#include "util/rate_limiter.h"

#include "gtest/gtest.h"

namespace trellis {
namespace {

TEST(RateLimiterTest, RefillsAtTheRateUpToTheBurst) {
  absl::Time now = absl::FromUnixSeconds(1000);
  RateLimiter limiter(/*rate=*/1, /*burst=*/2, /*max_keys=*/10,
                      [&] { return now; });
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("b"));  // Keys are separate.
  now += absl::Milliseconds(999);
  EXPECT_FALSE(limiter.Allow("a"));
  now += absl::Milliseconds(2);
  EXPECT_TRUE(limiter.Allow("a"));
  now += absl::Hours(1);  // Never more than the burst saved up.
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_FALSE(limiter.Allow("a"));
}

TEST(RateLimiterTest, AClockSteppedBackDrainsNothing) {
  absl::Time now = absl::FromUnixSeconds(1000);
  RateLimiter limiter(/*rate=*/10, /*burst=*/2, /*max_keys=*/10,
                      [&] { return now; });
  EXPECT_TRUE(limiter.Allow("a"));
  now -= absl::Hours(1);
  EXPECT_TRUE(limiter.Allow("a")) << "the token left is still there";
  EXPECT_FALSE(limiter.Allow("a"));
  now += absl::Milliseconds(100);  // Refills from the new time on.
  EXPECT_TRUE(limiter.Allow("a"));
}

TEST(RateLimiterTest, TableStaysBounded) {
  absl::Time now = absl::FromUnixSeconds(1000);
  RateLimiter limiter(1, 1, /*max_keys=*/2, [&] { return now; });
  EXPECT_TRUE(limiter.Allow("a"));
  EXPECT_TRUE(limiter.Allow("b"));
  EXPECT_FALSE(limiter.Allow("c"));  // Full, nothing idle enough.
  now += absl::Seconds(1);           // a and b are full again: forgotten.
  EXPECT_TRUE(limiter.Allow("c"));
}

TEST(RateLimiterTest, CallsCostSeveralTokensAndGiveBack) {
  absl::Time now = absl::FromUnixSeconds(1000);
  RateLimiter limiter(/*rate=*/10, /*burst=*/100, /*max_keys=*/10,
                      [&] { return now; });
  EXPECT_TRUE(limiter.Take("a", 60));
  double available = -1;
  EXPECT_FALSE(limiter.Take("a", 60, &available));
  EXPECT_DOUBLE_EQ(available, 40);  // A refusal takes nothing.
  EXPECT_TRUE(limiter.Take("a", 40));
  limiter.Give("a", 30);
  EXPECT_TRUE(limiter.Take("a", 30));
  EXPECT_FALSE(limiter.Take("a", 1));
  now += absl::Seconds(2);  // 20 tokens refilled.
  EXPECT_TRUE(limiter.Take("a", 20));
  limiter.Give("a", 500);  // Never beyond the burst.
  EXPECT_FALSE(limiter.Take("a", 101));
  EXPECT_TRUE(limiter.Take("a", 100));
}

}  // namespace
}  // namespace trellis
