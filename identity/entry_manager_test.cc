#include "identity/entry_manager.h"

#include <algorithm>
#include <random>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/rocksdb/identity_storage.h"
#include "util/test_util.h"

namespace trellis::identity {
namespace {

constexpr char kTd[] = "example.org";

spire::api::types::SPIFFEID Id(const std::string& path) {
  spire::api::types::SPIFFEID id;
  id.set_trust_domain(kTd);
  id.set_path(path);
  return id;
}

Entry MakeEntry(const std::string& parent, const std::string& spiffe_id,
                const std::string& selector = "unix:uid:0") {
  Entry entry;
  *entry.mutable_parent_id() = Id(parent);
  *entry.mutable_spiffe_id() = Id(spiffe_id);
  Selector* s = entry.add_selectors();
  const size_t colon = selector.find(':');
  s->set_type(selector.substr(0, colon));
  s->set_value(selector.substr(colon + 1));
  return entry;
}

class EntryManagerTest : public ::testing::Test {
 protected:
  void SetUp() override { Open(); }
  void Open() {
    manager_.reset();
    storage_.reset();
    db_.reset();
    db_ = std::move(storage::rocksdb::Database::Open({dir_.path()}).value());
    storage_ =
        std::make_unique<storage::rocksdb::RocksIdentityStorage>(db_.get());
    manager_ = std::move(EntryManager::Create(storage_.get(), kTd, [] {
                           return absl::FromUnixSeconds(1700000000);
                         }).value());
  }
  Entry CreateOk(Entry entry) {
    auto results = manager_->Create({std::move(entry)});
    EXPECT_TRUE(results[0].ok()) << results[0].status();
    return results[0].value_or(Entry());
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksIdentityStorage> storage_;
  std::unique_ptr<EntryManager> manager_;
};

TEST_F(EntryManagerTest, CreatesWithIdsAndRefusesSimilarEntries) {
  Entry created = CreateOk(MakeEntry("/agent", "/web"));
  EXPECT_EQ(created.id().size(), 36u);  // A UUID.
  EXPECT_EQ(created.revision_number(), 0);
  EXPECT_EQ(created.created_at(), 1700000000);
  auto again = manager_->Create({MakeEntry("/agent", "/web")});
  EXPECT_EQ(again[0].status().code(), absl::StatusCode::kAlreadyExists);
  // Another selector makes it a different entry.
  CreateOk(MakeEntry("/agent", "/web", "unix:uid:1"));
  // Twice in one batch: the second is refused.
  auto batch = manager_->Create(
      {MakeEntry("/agent", "/db"), MakeEntry("/agent", "/db")});
  EXPECT_TRUE(batch[0].ok());
  EXPECT_EQ(batch[1].status().code(), absl::StatusCode::kAlreadyExists);
  Open();
  EXPECT_EQ(manager_->Count(), 3u);
}

TEST_F(EntryManagerTest, RefusesInvalidEntriesAndStoresNothing) {
  Entry no_selectors = MakeEntry("/agent", "/web");
  no_selectors.clear_selectors();
  Entry foreign = MakeEntry("/agent", "/web");
  foreign.mutable_spiffe_id()->set_trust_domain("other.org");
  Entry bad_path = MakeEntry("/agent", "/web/../x");
  Entry colon_type = MakeEntry("/agent", "/web", "un:ix:uid");
  colon_type.mutable_selectors(0)->set_type("un:ix");
  Entry negative_ttl = MakeEntry("/agent", "/web");
  negative_ttl.set_x509_svid_ttl(-1);
  Entry bad_dns = MakeEntry("/agent", "/web");
  bad_dns.add_dns_names("-bad-.example");
  Entry server_id = MakeEntry("/agent", "/spire/server");
  Entry bad_id = MakeEntry("/agent", "/web");
  bad_id.set_id("has space");
  for (const Entry& entry : {no_selectors, foreign, bad_path, colon_type,
                             negative_ttl, bad_dns, server_id, bad_id}) {
    auto results = manager_->Create({entry});
    EXPECT_EQ(results[0].status().code(), absl::StatusCode::kInvalidArgument)
        << entry.DebugString();
  }
  EXPECT_EQ(manager_->Count(), 0u);
  EXPECT_TRUE(storage_->ListEntries()->empty());
}

TEST_F(EntryManagerTest, UpdateBumpsRevisionAndDeleteRemoves) {
  Entry created = CreateOk(MakeEntry("/agent", "/web"));
  created.set_x509_svid_ttl(60);
  auto updated = manager_->Update({created});
  ASSERT_TRUE(updated[0].ok()) << updated[0].status();
  EXPECT_EQ(updated[0]->revision_number(), 1);
  Entry unknown = created;
  unknown.set_id("nope");
  EXPECT_EQ(manager_->Update({unknown})[0].status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(manager_->Delete({created.id()})[0].ok());
  EXPECT_EQ(manager_->Delete({created.id()})[0].code(),
            absl::StatusCode::kNotFound);
  Open();
  EXPECT_EQ(manager_->Count(), 0u);
}

std::vector<std::string> Paths(const std::vector<Entry>& entries) {
  std::vector<std::string> paths;
  for (const Entry& e : entries) paths.push_back(e.spiffe_id().path());
  std::sort(paths.begin(), paths.end());
  return paths;
}

TEST_F(EntryManagerTest, AuthorizedEntriesFollowParentsAndNodeAliases) {
  const std::string agent = "/spire/agent/join_token/t1";
  CreateOk(MakeEntry(agent, "/direct"));
  CreateOk(MakeEntry("/direct", "/grandchild"));
  CreateOk(MakeEntry("/spire/agent/join_token/other", "/not-mine"));
  // A node alias matching the agent's selectors, and one that does not.
  CreateOk(MakeEntry("/spire/server", "/cluster", "k8s_psat:cluster:a"));
  CreateOk(MakeEntry("/cluster", "/via-alias"));
  CreateOk(MakeEntry("/spire/server", "/other-cluster", "k8s_psat:cluster:b"));
  CreateOk(MakeEntry("/other-cluster", "/not-via-alias"));
  Selector cluster;
  cluster.set_type("k8s_psat");
  cluster.set_value("cluster:a");
  EXPECT_EQ(Paths(manager_->AuthorizedEntries(
                absl::StrCat("spiffe://", kTd, agent), {cluster})),
            (std::vector<std::string>{"/direct", "/grandchild", "/via-alias"}));
  EXPECT_EQ(Paths(manager_->AuthorizedEntries(
                absl::StrCat("spiffe://", kTd, agent), {})),
            (std::vector<std::string>{"/direct", "/grandchild"}));
}

TEST_F(EntryManagerTest, ExpiredEntriesAuthoriseNothing) {
  const std::string agent = "/spire/agent/join_token/t2";
  Entry expired = MakeEntry(agent, "/expired");
  expired.set_expires_at(1700000000);  // The manager's clock: now.
  CreateOk(expired);
  CreateOk(MakeEntry("/expired", "/below-expired"));
  Entry later = MakeEntry(agent, "/later");
  later.set_expires_at(1700000001);
  CreateOk(later);
  EXPECT_EQ(Paths(manager_->AuthorizedEntries(
                absl::StrCat("spiffe://", kTd, agent), {})),
            (std::vector<std::string>{"/later"}));
}

TEST_F(EntryManagerTest, PruningDeletesExpiredEntriesOnly) {
  Entry expired = MakeEntry("/spire/agent/join_token/t3", "/gone");
  expired.set_expires_at(1700000000);  // The manager's clock: now.
  CreateOk(expired);
  Entry later = MakeEntry("/spire/agent/join_token/t3", "/stays");
  later.set_expires_at(1700000001);
  CreateOk(later);
  CreateOk(MakeEntry("/spire/agent/join_token/t3", "/forever"));
  const size_t before = manager_->Count();
  absl::StatusOr<size_t> pruned = manager_->PruneExpired();
  ASSERT_TRUE(pruned.ok()) << pruned.status();
  EXPECT_EQ(*pruned, 1u);
  EXPECT_EQ(manager_->Count(), before - 1);
  // Gone from storage too: a manager reading it afresh agrees.
  auto reloaded = EntryManager::Create(
      storage_.get(), kTd, [] { return absl::FromUnixSeconds(1700000000); });
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ((*reloaded)->Count(), before - 1);
  EXPECT_EQ(*manager_->PruneExpired(), 0u);
}

TEST_F(EntryManagerTest, CyclesDoNotLoop) {
  CreateOk(MakeEntry("/a", "/b"));
  CreateOk(MakeEntry("/b", "/a"));
  EXPECT_EQ(Paths(manager_->AuthorizedEntries(
                absl::StrCat("spiffe://", kTd, "/a"), {})),
            (std::vector<std::string>{"/a", "/b"}));
}

// AuthorizedEntry walks up from one entry; AuthorizedEntries (the
// reference) walks down from the agent. On random entry graphs (parents
// among a few IDs, node aliases, expiries, cycles) they must agree on
// every entry.
TEST_F(EntryManagerTest, AuthorizedEntryAgreesWithTheFullWalk) {
  std::mt19937 random(20261201);
  const std::string agent = "/spire/agent/join_token/t4";
  const std::vector<std::string> ids = {
      agent, "/spire/server", "/a", "/b", "/c", "/d", "/e", "/f"};
  const std::vector<std::string> selectors = {"k8s:cluster:a", "k8s:cluster:b",
                                              "unix:uid:0"};
  Selector held;
  held.set_type("k8s");
  held.set_value("cluster:a");
  for (int round = 0; round < 20; ++round) {
    for (const Entry& e : manager_->List()) manager_->Delete({e.id()});
    for (int i = 0; i < 12; ++i) {
      Entry entry = MakeEntry(ids[random() % ids.size()],
                              ids[2 + random() % (ids.size() - 2)],
                              selectors[random() % selectors.size()]);
      if (random() % 5 == 0) entry.set_expires_at(1700000000);  // Expired.
      manager_->Create({entry});  // Similar entries are refused: fine.
    }
    const std::string agent_id = absl::StrCat("spiffe://", kTd, agent);
    std::vector<std::string> authorized;
    for (const Entry& e : manager_->AuthorizedEntries(agent_id, {held})) {
      authorized.push_back(e.id());
    }
    for (const Entry& e : manager_->List()) {
      const bool expected = std::find(authorized.begin(), authorized.end(),
                                      e.id()) != authorized.end();
      absl::StatusOr<Entry> found =
          manager_->AuthorizedEntry(agent_id, {held}, e.id());
      EXPECT_EQ(found.ok(), expected)
          << "round " << round << ": " << e.parent_id().path() << " -> "
          << e.spiffe_id().path();
      if (found.ok()) {
        EXPECT_EQ(found->id(), e.id());
      }
    }
  }
  EXPECT_EQ(manager_
                ->AuthorizedEntry(absl::StrCat("spiffe://", kTd, agent), {},
                                  "no-such-entry")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace trellis::identity
