#include "attest/verifier/nonce_store.h"

#include "gtest/gtest.h"

namespace trellis::attest {
namespace {

// A clock the test moves by hand.
struct FakeClock {
  absl::Time now = absl::FromUnixSeconds(1'000'000);
  NonceStore::Clock clock() {
    return [this] { return now; };
  }
};

TEST(NonceStoreTest, NoncesAreSingleUseBoundAndExpiring) {
  FakeClock time;
  NonceStore store(absl::Seconds(300), {}, time.clock());
  absl::StatusOr<std::string> a = store.Issue("host-a");
  absl::StatusOr<std::string> b = store.Issue("host-a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->size(), 32u);
  EXPECT_NE(*a, *b);  // Random.
  // Bound to the host it was issued to.
  EXPECT_EQ(store.Consume(*a, "host-b").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(store.Consume(*a, "host-a").ok());
  // Single use, and the reason is said.
  absl::Status again = store.Consume(*a, "host-a");
  EXPECT_EQ(again.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(again.message().find("already used"), absl::string_view::npos);
  // Never issued.
  EXPECT_EQ(store.Consume(std::string(32, 'x'), "host-a").code(),
            absl::StatusCode::kPermissionDenied);
  // Valid until its lifetime ends, not after.
  time.now += absl::Seconds(299);
  absl::StatusOr<std::string> c = store.Issue("host-a");
  time.now += absl::Seconds(1);
  absl::Status expired = store.Consume(*b, "host-a");
  EXPECT_EQ(expired.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(expired.message().find("expired"), absl::string_view::npos);
  EXPECT_TRUE(store.Consume(*c, "host-a").ok());
}

TEST(NonceStoreTest, OutstandingNoncesAreBounded) {
  FakeClock time;
  NonceStore store(absl::Minutes(5), {/*max_outstanding=*/3, 16}, time.clock());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store.Issue("h").ok());
  EXPECT_EQ(store.Issue("h").status().code(),
            absl::StatusCode::kResourceExhausted);
  // Expired nonces free their places.
  time.now += absl::Minutes(6);
  EXPECT_TRUE(store.Issue("h").ok());
}

// One host asking without end only recycles its own places: it keeps its
// newest nonces and cannot lock anyone else out.
TEST(NonceStoreTest, OneHostCannotExhaustTheStore) {
  FakeClock time;
  NonceStore store(absl::Minutes(5), {/*max_outstanding=*/9, 4}, time.clock());
  absl::StatusOr<std::string> other = store.Issue("quiet");
  ASSERT_TRUE(other.ok());
  std::vector<std::string> issued;
  for (int i = 0; i < 1000; ++i) {
    absl::StatusOr<std::string> n = store.Issue("greedy");
    ASSERT_TRUE(n.ok()) << i;
    issued.push_back(*n);
  }
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(store.Issue("host-" + std::to_string(i)).ok());
  }
  EXPECT_TRUE(store.Consume(*other, "quiet").ok());
  // The greedy host's four newest work; older ones were dropped.
  EXPECT_TRUE(store.Consume(issued.back(), "greedy").ok());
  EXPECT_EQ(store.Consume(issued[issued.size() - 5], "greedy").code(),
            absl::StatusCode::kPermissionDenied);
}

}  // namespace
}  // namespace trellis::attest
