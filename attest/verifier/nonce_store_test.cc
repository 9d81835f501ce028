#include "attest/verifier/nonce_store.h"

#include "absl/time/clock.h"
#include "gtest/gtest.h"

namespace trellis::attest {
namespace {

TEST(NonceStoreTest, NoncesAreSingleUseBoundAndExpiring) {
  NonceStore store(absl::Milliseconds(300));
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
  // Expired.
  absl::SleepFor(absl::Milliseconds(400));
  absl::Status expired = store.Consume(*b, "host-a");
  EXPECT_EQ(expired.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(expired.message().find("expired"), absl::string_view::npos);
}

TEST(NonceStoreTest, OutstandingNoncesAreBounded) {
  NonceStore store(absl::Minutes(5), /*max_outstanding=*/3);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(store.Issue("h").ok());
  EXPECT_EQ(store.Issue("h").status().code(),
            absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace trellis::attest
