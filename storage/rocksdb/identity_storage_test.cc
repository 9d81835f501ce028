#include "storage/rocksdb/identity_storage.h"

#include <atomic>
#include <thread>

#include "gtest/gtest.h"
#include "util/test_util.h"

namespace trellis::storage::rocksdb {
namespace {

class IdentityStorageTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    storage_.reset();
    db_.reset();
    auto db = Database::Open({dir_.path()});
    ASSERT_TRUE(db.ok()) << db.status();
    db_ = std::move(*db);
    storage_ = std::make_unique<RocksIdentityStorage>(db_.get());
  }

  testing::TempDir dir_;
  std::unique_ptr<Database> db_;
  std::unique_ptr<RocksIdentityStorage> storage_;
};

spire::api::types::Entry Entry(const std::string& id, const std::string& path) {
  spire::api::types::Entry entry;
  entry.set_id(id);
  entry.mutable_spiffe_id()->set_trust_domain("example.org");
  entry.mutable_spiffe_id()->set_path(path);
  return entry;
}

TEST_F(IdentityStorageTest, EntriesSurviveReopenAndDeleteOnce) {
  ASSERT_TRUE(
      storage_->PutEntries({Entry("a", "/one"), Entry("b", "/two")}).ok());
  Open();
  auto listed = storage_->ListEntries();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[1].spiffe_id().path(), "/two");
  EXPECT_TRUE(storage_->DeleteEntry("a").ok());
  EXPECT_EQ(storage_->DeleteEntry("a").code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(storage_->GetEntry("a")->has_value());
  EXPECT_TRUE(storage_->GetEntry("b")->has_value());
}

TEST_F(IdentityStorageTest, AgentsAreKeyedBySpiffeId) {
  trellis::AttestedAgent agent;
  agent.set_spiffe_id("spiffe://example.org/spire/agent/join_token/t");
  agent.set_cert_serial_number("01");
  ASSERT_TRUE(storage_->PutAgent(agent).ok());
  agent.set_cert_serial_number("02");
  ASSERT_TRUE(storage_->PutAgent(agent).ok());
  auto held = storage_->GetAgent(agent.spiffe_id());
  ASSERT_TRUE(held.ok() && held->has_value());
  EXPECT_EQ((*held)->cert_serial_number(), "02");
  EXPECT_EQ(storage_->ListAgents()->size(), 1u);
  EXPECT_TRUE(storage_->DeleteAgent(agent.spiffe_id()).ok());
  EXPECT_EQ(storage_->DeleteAgent(agent.spiffe_id()).code(),
            absl::StatusCode::kNotFound);
}

TEST_F(IdentityStorageTest, FederatedBundlesAreKeyedByTrustDomain) {
  spire::api::types::Bundle bundle;
  bundle.set_trust_domain("b.test");
  bundle.set_sequence_number(1);
  ASSERT_TRUE(storage_->PutFederatedBundle(bundle).ok());
  bundle.set_trust_domain("a.test");
  ASSERT_TRUE(storage_->PutFederatedBundle(bundle).ok());
  bundle.set_sequence_number(2);
  ASSERT_TRUE(storage_->PutFederatedBundle(bundle).ok());
  Open();
  auto listed = storage_->ListFederatedBundles();
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].trust_domain(), "a.test");
  EXPECT_EQ((*listed)[0].sequence_number(), 2);
  EXPECT_TRUE(storage_->DeleteFederatedBundle("a.test").ok());
  EXPECT_EQ(storage_->DeleteFederatedBundle("a.test").code(),
            absl::StatusCode::kNotFound);
  EXPECT_FALSE(storage_->GetFederatedBundle("a.test")->has_value());
  EXPECT_EQ((*storage_->GetFederatedBundle("b.test"))->sequence_number(), 1);
  // Other records are not bundles.
  EXPECT_EQ(storage_->ListFederatedBundles()->size(), 1u);
}

TEST_F(IdentityStorageTest, JoinTokenIsTakenExactlyOnce) {
  trellis::JoinTokenRecord token;
  token.set_token("tok");
  token.set_expires_at(100);
  ASSERT_TRUE(storage_->PutJoinToken(token).ok());
  EXPECT_EQ(storage_->PutJoinToken(token).code(),
            absl::StatusCode::kAlreadyExists);
  std::atomic<int> taken{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      auto got = storage_->TakeJoinToken("tok");
      if (got.ok() && got->has_value()) ++taken;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(taken.load(), 1);
  Open();
  EXPECT_FALSE(storage_->TakeJoinToken("tok")->has_value());
}

TEST_F(IdentityStorageTest, SettingsPersist) {
  EXPECT_FALSE(storage_->GetSetting("log")->has_value());
  ASSERT_TRUE(storage_->PutSetting("log", "42").ok());
  Open();
  EXPECT_EQ(storage_->GetSetting("log")->value_or(""), "42");
}

TEST_F(IdentityStorageTest, CaSlotsAreReplacedTogether) {
  trellis::CaSlot a, b;
  a.set_slot_id("A");
  b.set_slot_id("B");
  ASSERT_TRUE(storage_->PutCaSlots({a, b}).ok());
  b.set_state(trellis::CaSlot::ACTIVE);
  ASSERT_TRUE(storage_->PutCaSlots({b}).ok());
  Open();
  auto slots = storage_->GetCaSlots();
  ASSERT_TRUE(slots.ok());
  ASSERT_EQ(slots->size(), 1u);
  EXPECT_EQ((*slots)[0].state(), trellis::CaSlot::ACTIVE);
}

}  // namespace
}  // namespace trellis::storage::rocksdb
