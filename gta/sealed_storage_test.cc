#include "gta/sealed_storage.h"

#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/rocksdb/gta_storage.h"
#include "util/test_util.h"

namespace trellis::gta {
namespace {

class SealedStorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(storage::rocksdb::Database::Open({dir_.path()}).value());
    raw_ = std::make_unique<storage::rocksdb::RocksGtaStorage>(db_.get());
    crypto::KeyWrapping plain{
        [](absl::string_view, absl::string_view der) {
          return absl::StatusOr<std::string>(std::string(der));
        },
        [](absl::string_view, absl::string_view wrapped) {
          return absl::StatusOr<std::string>(std::string(wrapped));
        }};
    keys_ = KeyRing::Open(raw_.get(), plain, absl::Hours(1)).value();
  }
  std::unique_ptr<SealedGtaStorage> Sealed() {
    auto sealed = SealedGtaStorage::Open(raw_.get(), keys_.get());
    EXPECT_TRUE(sealed.ok()) << sealed.status();
    return std::move(sealed).value_or(nullptr);
  }

  static trellis::GtaPolicy Policy(const std::string& user,
                                   const std::string& id) {
    trellis::GtaPolicy policy;
    policy.set_user_id(user);
    policy.set_id(id);
    policy.set_name(id);
    policy.add_attester_types("tpm_boot");
    policy.set_rego(
        "package verification\nresult := {\"policy_matched\": false}\n");
    policy.set_is_default(true);
    policy.set_version(1);
    return policy;
  }
  static trellis::GtaCert Cert(const std::string& user, const std::string& id) {
    trellis::GtaCert cert;
    cert.set_user_id(user);
    cert.set_id(id);
    cert.add_types("tpm_boot");
    cert.set_der("not really DER: the seal covers bytes");
    return cert;
  }
  static trellis::GtaRefValue RefValue(const std::string& user,
                                       const std::string& id) {
    trellis::GtaRefValue value;
    value.set_user_id(user);
    value.set_id(id);
    value.set_attester_type("tpm_ima");
    value.add_sha256(std::string(64, 'a'));
    return value;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksGtaStorage> raw_;
  std::unique_ptr<KeyRing> keys_;
};

TEST_F(SealedStorageTest, RowsChangedBehindTheServiceReadAsBroken) {
  auto sealed = Sealed();
  ASSERT_TRUE(sealed->PutPolicy(Policy("alice", "p1")).ok());
  auto read = sealed->GetPolicy("alice", "p1").value();
  ASSERT_TRUE(read.has_value());
  EXPECT_EQ(read->valid_code(), 0);
  EXPECT_FALSE(read->seal().empty());
  EXPECT_EQ(read->seal_key_version(), 1u);

  // The Rego changed in the database: broken, in Get and List alike.
  trellis::GtaPolicy tampered = *raw_->GetPolicy("alice", "p1").value();
  tampered.set_rego(
      "package verification\nresult := {\"policy_matched\": true}\n");
  ASSERT_TRUE(raw_->PutPolicy(tampered).ok());
  auto broken = sealed->GetPolicy("alice", "p1").value();
  EXPECT_EQ(broken->valid_code(), kSealBroken);
  EXPECT_EQ(sealed->ListPolicies("alice")->at(0).valid_code(), kSealBroken);
  // Writing it back would launder it: refused.
  EXPECT_EQ(sealed->PutPolicy(*broken).code(),
            absl::StatusCode::kFailedPrecondition);
  // A stripped seal, or one moved from another row, is broken too.
  tampered.clear_seal();
  ASSERT_TRUE(raw_->PutPolicy(tampered).ok());
  EXPECT_EQ(sealed->GetPolicy("alice", "p1").value()->valid_code(),
            kSealBroken);
  ASSERT_TRUE(sealed->PutPolicy(Policy("alice", "p2")).ok());
  trellis::GtaPolicy moved = Policy("alice", "p1");
  moved.set_name("other");
  moved.set_seal(raw_->GetPolicy("alice", "p2").value()->seal());
  moved.set_seal_key_version(1);
  ASSERT_TRUE(raw_->PutPolicy(moved).ok());
  EXPECT_EQ(sealed->GetPolicy("alice", "p1").value()->valid_code(),
            kSealBroken);

  // Certificates: a revocation (valid_code 2) is sealed state; a changed
  // type list is not.
  trellis::GtaCert revoked = Cert("alice", "c2");
  revoked.set_valid_code(2);
  ASSERT_TRUE(sealed->PutCerts({Cert("alice", "c1"), revoked}).ok());
  auto certs = sealed->ListCerts("alice").value();
  ASSERT_EQ(certs.size(), 2u);
  EXPECT_EQ(certs[0].valid_code(), 0);
  EXPECT_EQ(certs[1].valid_code(), 2);
  trellis::GtaCert unrevoked = raw_->ListCerts("alice")->at(1);
  unrevoked.set_valid_code(0);  // Someone "un-revokes" it in the database.
  ASSERT_TRUE(raw_->PutCerts({unrevoked}).ok());
  EXPECT_EQ(sealed->ListCerts("alice")->at(1).valid_code(), kSealBroken);

  ASSERT_TRUE(sealed->PutRefValue(RefValue("alice", "1")).ok());
  EXPECT_EQ(sealed->ListRefValues("alice")->at(0).valid_code(), 0);
  trellis::GtaRefValue widened = raw_->ListRefValues("alice")->at(0);
  widened.add_sha256(std::string(64, 'b'));
  ASSERT_TRUE(raw_->PutRefValue(widened).ok());
  EXPECT_EQ(sealed->ListRefValues("alice")->at(0).valid_code(), kSealBroken);
}

// A sealed row copied under another user's key (or another id) is not
// that user's: broken.
TEST_F(SealedStorageTest, SealsBindTheRowToItsUserAndId) {
  auto sealed = Sealed();
  ASSERT_TRUE(sealed->PutCerts({Cert("alice", "c1")}).ok());
  ASSERT_TRUE(sealed->PutPolicy(Policy("alice", "p1")).ok());
  std::string cert_row;
  ASSERT_TRUE(raw_->ListCerts("alice")->at(0).SerializeToString(&cert_row));
  ASSERT_TRUE(db_->db()
                  ->Put(::rocksdb::WriteOptions(), db_->gta(),
                        std::string("cmallory\0c1", 10), cert_row)
                  .ok());
  auto copied = sealed->ListCerts("mallory").value();
  ASSERT_EQ(copied.size(), 1u);
  EXPECT_EQ(copied[0].valid_code(), kSealBroken);
  std::string policy_row;
  ASSERT_TRUE(
      raw_->GetPolicy("alice", "p1").value()->SerializeToString(&policy_row));
  ASSERT_TRUE(db_->db()
                  ->Put(::rocksdb::WriteOptions(), db_->gta(),
                        std::string("palice\0p2", 9), policy_row)
                  .ok());
  EXPECT_EQ(sealed->GetPolicy("alice", "p2").value()->valid_code(),
            kSealBroken);
}

TEST_F(SealedStorageTest, SealsFromOlderFskVersionsStillVerify) {
  auto sealed = Sealed();
  ASSERT_TRUE(sealed->PutPolicy(Policy("alice", "p1")).ok());
  ASSERT_TRUE(keys_->Rotate(kRecordKey).ok());
  EXPECT_EQ(sealed->GetPolicy("alice", "p1").value()->valid_code(), 0);
  ASSERT_TRUE(sealed->PutPolicy(Policy("alice", "p2")).ok());
  EXPECT_EQ(sealed->GetPolicy("alice", "p2").value()->seal_key_version(), 2u);
  EXPECT_EQ(sealed->GetPolicy("alice", "p2").value()->valid_code(), 0);
}

TEST_F(SealedStorageTest, RowsFromBeforeSealingAreSealedOnce) {
  for (const char* user : {"alice", "bob"}) {
    ASSERT_TRUE(raw_->PutPolicy(Policy(user, "p1")).ok());
    ASSERT_TRUE(raw_->PutCerts({Cert(user, "c1")}).ok());
    ASSERT_TRUE(raw_->PutRefValue(RefValue(user, "1")).ok());
  }
  ASSERT_TRUE(raw_->PutRefValue(RefValue("al", "2")).ok());  // A prefix.
  EXPECT_EQ(raw_->ListUsers().value(),
            (std::vector<std::string>{"al", "alice", "bob"}));
  auto sealed = Sealed();
  for (const char* user : {"alice", "bob"}) {
    EXPECT_FALSE(raw_->GetPolicy(user, "p1").value()->seal().empty());
    EXPECT_FALSE(raw_->ListCerts(user)->at(0).seal().empty());
    EXPECT_FALSE(raw_->ListRefValues(user)->at(0).seal().empty());
    EXPECT_EQ(sealed->GetPolicy(user, "p1").value()->valid_code(), 0);
    EXPECT_EQ(sealed->ListCerts(user)->at(0).valid_code(), 0);
    EXPECT_EQ(sealed->ListRefValues(user)->at(0).valid_code(), 0);
  }
  // A row slipped in unsealed later is not sealed by a restart, even with
  // the "sealed" setting deleted: sealed rows exist.
  ASSERT_TRUE(raw_->PutPolicy(Policy("mallory", "p9")).ok());
  sealed = Sealed();
  ASSERT_TRUE(
      db_->db()
          ->Delete(::rocksdb::WriteOptions(), db_->gta(), "srows_sealed")
          .ok());
  ASSERT_FALSE(raw_->GetSetting("rows_sealed").value().has_value());
  sealed = Sealed();
  EXPECT_TRUE(raw_->GetPolicy("mallory", "p9").value()->seal().empty());
  EXPECT_EQ(sealed->GetPolicy("mallory", "p9").value()->valid_code(),
            kSealBroken);
}

}  // namespace
}  // namespace trellis::gta
