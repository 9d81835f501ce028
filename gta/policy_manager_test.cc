#include "gta/policy_manager.h"

#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ca/x509.h"
#include "gta/policy_evaluation.h"
#include "gta/sealed_storage.h"
#include "gtest/gtest.h"
#include "storage/rocksdb/gta_storage.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::gta {
namespace {

// Keeps the records the manager logs; fails on demand.
class RecordingSink : public log::RecordSink {
 public:
  absl::StatusOr<std::vector<std::string>> Append(
      int64_t, const std::vector<std::string>& records) override {
    if (fail) return absl::UnavailableError("log down");
    for (const std::string& record : records) {
      trellis::GtaChangeRecord parsed;
      EXPECT_TRUE(parsed.ParseFromString(record));
      appended.push_back(parsed);
    }
    return std::vector<std::string>(records.size(), "hash");
  }
  std::vector<trellis::GtaChangeRecord> appended;
  bool fail = false;
};

constexpr char kUser[] = "user-a";

std::string Text(const std::string& rego) { return absl::Base64Escape(rego); }

const char kMatchSecureBoot[] = R"(package verification
default matched = false
matched { input.evidence.logs[0].log_status == "replay_success" }
result := {"policy_matched": matched}
)";

class PolicyManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::move(storage::rocksdb::Database::Open({dir_.path()}).value());
    storage_ = std::make_unique<storage::rocksdb::RocksGtaStorage>(db_.get());
    changes_ = std::make_unique<ChangeLog>(
        &sink_, [] { return absl::StatusOr<int64_t>(7); });
    manager_ = std::make_unique<PolicyManager>(storage_.get(), changes_.get(),
                                               &sandbox_);
  }

  NewPolicy Policy(const std::string& name, bool is_default = true) {
    NewPolicy policy;
    policy.name = name;
    policy.attester_types = {kTpmBoot};
    policy.content_type = "text";
    policy.content = Text(kMatchSecureBoot);
    policy.is_default = is_default;
    return policy;
  }

  testing::TempDir dir_;
  policy::RegoSandbox sandbox_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksGtaStorage> storage_;
  RecordingSink sink_;
  std::unique_ptr<ChangeLog> changes_;
  std::unique_ptr<PolicyManager> manager_;
};

TEST_F(PolicyManagerTest, AddsChecksAndLogsPolicies) {
  auto added = manager_->Add(kUser, Policy("boot"));
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->version(), 1u);
  EXPECT_EQ(added->id().size(), 36u);  // A UUID.
  EXPECT_EQ(added->rego(), kMatchSecureBoot);
  ASSERT_EQ(sink_.appended.size(), 1u);
  EXPECT_EQ(sink_.appended[0].type(), kChangeRecordType);
  EXPECT_EQ(sink_.appended[0].action(), "add");
  EXPECT_EQ(sink_.appended[0].resource_id(), added->id());
  EXPECT_EQ(sink_.appended[0].content_sha256().size(), 32u);

  // Every limit, each refused with INVALID_ARGUMENT and nothing stored.
  std::vector<NewPolicy> bad(10, Policy("x"));
  bad[0].name = "";
  bad[1].name = std::string(256, 'n');
  bad[2].description = std::string(513, 'd');
  bad[3].attester_types = {};
  bad[4].attester_types = {"virt_cca"};
  bad[5].id = std::string(37, 'i');
  bad[6].content = "not base64!";
  bad[7].content = Text(std::string(500 * 1024 + 1, ' '));
  bad[8].content = Text("package verification\nresult := {");
  bad[9].content_type = "jwt";
  for (size_t i = 0; i < bad.size(); ++i) {
    auto refused = manager_->Add(kUser, bad[i]);
    EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument)
        << i << ": " << refused.status();
  }
  EXPECT_EQ(sink_.appended.size(), 1u);
  EXPECT_EQ(storage_->ListPolicies(kUser)->size(), 1u);

  // Names and ids are unique per user, not across users.
  EXPECT_EQ(manager_->Add(kUser, Policy("boot")).status().code(),
            absl::StatusCode::kAlreadyExists);
  NewPolicy same_id = Policy("other");
  same_id.id = added->id();
  EXPECT_EQ(manager_->Add(kUser, same_id).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(manager_->Add("user-b", Policy("boot")).ok());
  EXPECT_TRUE(manager_->Query("user-b", {added->id()}, "")->empty());

  // At most 30 per user.
  for (int i = 1; i < 30; ++i) {
    ASSERT_TRUE(manager_->Add(kUser, Policy(absl::StrCat("p", i), false)).ok());
  }
  EXPECT_EQ(manager_->Add(kUser, Policy("one-too-many")).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(manager_->Add("", Policy("x")).status().code(),
            absl::StatusCode::kInvalidArgument);
}

// Over sealed rows: a policy changed in the database behind the service
// refuses the attestation (skipping it could turn a fail into a pass) and
// cannot be updated into a freshly sealed version.
TEST_F(PolicyManagerTest, APolicyChangedInTheDatabaseIsNotApplied) {
  crypto::KeyWrapping plain{
      [](absl::string_view, absl::string_view der) {
        return absl::StatusOr<std::string>(std::string(der));
      },
      [](absl::string_view, absl::string_view wrapped) {
        return absl::StatusOr<std::string>(std::string(wrapped));
      }};
  auto keys = KeyRing::Open(storage_.get(), plain, absl::Hours(1)).value();
  auto sealed = SealedGtaStorage::Open(storage_.get(), keys.get()).value();
  PolicyManager manager(sealed.get(), changes_.get(), &sandbox_);
  auto added = manager.Add(kUser, Policy("boot"));
  ASSERT_TRUE(added.ok()) << added.status();
  ASSERT_TRUE(manager.ForAttestation(kUser, kTpmBoot, {}).ok());

  trellis::GtaPolicy row = *storage_->GetPolicy(kUser, added->id()).value();
  row.set_rego("package verification\nresult := {\"policy_matched\": true}\n");
  ASSERT_TRUE(storage_->PutPolicy(row).ok());
  auto applied = manager.ForAttestation(kUser, kTpmBoot, {});
  EXPECT_EQ(applied.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(applied.status().message().find("integrity"), std::string::npos);
  EXPECT_EQ(
      manager.ForAttestation(kUser, kTpmBoot, {added->id()}).status().code(),
      absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(manager.Query(kUser, {added->id()}, "")->at(0).valid_code(),
            kSealBroken);
  PolicyChange rename;
  rename.id = added->id();
  rename.name = "renamed";
  const size_t logged = sink_.appended.size();
  EXPECT_EQ(manager.Update(kUser, rename).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Refused before it was logged: the log shows no update that never was.
  EXPECT_EQ(sink_.appended.size(), logged);

  // A second, intact default policy does not make the broken one
  // skippable; nor does turning is_default off in the database.
  ASSERT_TRUE(storage_->DeletePolicies(kUser, {added->id()}).ok());
  auto strict = manager.Add(kUser, Policy("strict"));
  auto lenient = manager.Add(kUser, Policy("lenient"));
  ASSERT_TRUE(strict.ok() && lenient.ok());
  trellis::GtaPolicy demoted =
      *storage_->GetPolicy(kUser, strict->id()).value();
  demoted.set_is_default(false);
  ASSERT_TRUE(storage_->PutPolicy(demoted).ok());
  EXPECT_EQ(manager.ForAttestation(kUser, kTpmBoot, {}).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(PolicyManagerTest, UpdatesBumpTheVersionAndRecheck) {
  auto added = manager_->Add(kUser, Policy("boot"));
  ASSERT_TRUE(added.ok());
  ASSERT_TRUE(manager_->Add(kUser, Policy("taken")).ok());
  PolicyChange change;
  change.id = added->id();
  change.description = "now described";
  auto updated = manager_->Update(kUser, change);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->version(), 2u);
  EXPECT_EQ(updated->description(), "now described");

  change.name = "taken";
  EXPECT_EQ(manager_->Update(kUser, change).status().code(),
            absl::StatusCode::kAlreadyExists);
  change.name.reset();
  change.content = Text("package verification\nresult := {");
  EXPECT_EQ(manager_->Update(kUser, change).status().code(),
            absl::StatusCode::kInvalidArgument);
  // A failed update leaves the stored policy as it was.
  EXPECT_EQ(manager_->Query(kUser, {added->id()}, "")->at(0).version(), 2u);
  change.id = "no-such-policy";
  change.content.reset();
  EXPECT_EQ(manager_->Update(kUser, change).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(
      manager_->Update("user-b", PolicyChange{added->id()}).status().code(),
      absl::StatusCode::kNotFound);
}

TEST_F(PolicyManagerTest, QueriesAndDeletesByIdTypeAndAll) {
  auto boot = manager_->Add(kUser, Policy("boot"));
  NewPolicy ima = Policy("ima");
  ima.attester_types = {kTpmIma};
  auto ima_added = manager_->Add(kUser, ima);
  ASSERT_TRUE(boot.ok() && ima_added.ok());
  EXPECT_EQ(manager_->Query(kUser, {}, "")->size(), 2u);
  EXPECT_EQ(manager_->Query(kUser, {}, kTpmIma)->at(0).name(), "ima");
  EXPECT_EQ(manager_->Query(kUser, {boot->id()}, "")->at(0).name(), "boot");
  EXPECT_EQ(manager_->Query(kUser, std::vector<std::string>(11, "x"), "")
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);

  EXPECT_EQ(manager_->Delete(kUser, {"ids", {}, ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Delete(kUser, {"id", {}, ""}).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto deleted = manager_->Delete(kUser, {"attester_type", {}, kTpmIma});
  ASSERT_TRUE(deleted.ok());
  ASSERT_EQ(deleted->size(), 1u);
  EXPECT_EQ(sink_.appended.back().action(), "delete");
  EXPECT_EQ(sink_.appended.back().resource_id(), ima_added->id());
  deleted = manager_->Delete(kUser, {"id", {boot->id()}, ""});
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->size(), 1u);
  EXPECT_TRUE(manager_->Query(kUser, {}, "")->empty());
  ASSERT_TRUE(manager_->Add(kUser, Policy("again")).ok());
  EXPECT_EQ(manager_->Delete(kUser, {"all", {}, ""})->size(), 1u);
}

TEST_F(PolicyManagerTest, AttestationsApplyDefaultsOrNamedPolicies) {
  auto first = manager_->Add(kUser, Policy("first"));
  auto second = manager_->Add(kUser, Policy("second", /*is_default=*/false));
  ASSERT_TRUE(first.ok() && second.ok());
  auto applied = manager_->ForAttestation(kUser, kTpmBoot, {});
  ASSERT_TRUE(applied.ok()) << applied.status();
  ASSERT_EQ(applied->size(), 1u);
  EXPECT_EQ(applied->at(0).policy.id(), first->id());
  auto verdict =
      EvaluateUserPolicy(*applied->at(0).rego, *SampleInput(kTpmBoot));
  ASSERT_TRUE(verdict.ok()) << verdict.status();
  EXPECT_TRUE(verdict->matched);

  applied = manager_->ForAttestation(kUser, kTpmBoot, {second->id()});
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(applied->at(0).policy.id(), second->id());
  auto missing =
      manager_->ForAttestation(kUser, kTpmBoot, {second->id(), "nope"});
  EXPECT_EQ(missing.status().message(), "Policy not found for ids: [nope]");
  // A policy of another type is not found either.
  EXPECT_EQ(
      manager_->ForAttestation(kUser, kTpmIma, {first->id()}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(manager_->ForAttestation(kUser, kTpmIma, {})->empty());

  // After a restart the stored Rego is compiled again.
  manager_ = std::make_unique<PolicyManager>(storage_.get(), changes_.get(),
                                             &sandbox_);
  applied = manager_->ForAttestation(kUser, kTpmBoot, {});
  ASSERT_TRUE(applied.ok());
  EXPECT_TRUE(EvaluateUserPolicy(*applied->at(0).rego, *SampleInput(kTpmBoot))
                  ->matched);
}

TEST_F(PolicyManagerTest, NothingIsStoredUnlessItIsLogged) {
  sink_.fail = true;
  EXPECT_EQ(manager_->Add(kUser, Policy("boot")).status().code(),
            absl::StatusCode::kUnavailable);
  EXPECT_TRUE(storage_->ListPolicies(kUser)->empty());
}

// content_type jwt: the policy is the payload of a JWS (PyJWT, RS512) that
// one of the user's certificates of type policy signed.
TEST_F(PolicyManagerTest, SignedPoliciesNeedAPolicyCertificate) {
  testing::TempDir pki;
  ASSERT_EQ(std::system(absl::StrCat("/usr/bin/python3 "
                                     "gta/testdata/make_pki.py ",
                                     pki.path(), " 2>/dev/null")
                            .c_str()),
            0);
  NewPolicy signed_policy = Policy("signed");
  signed_policy.content_type = "jwt";
  signed_policy.content = ReadFile(pki.path() + "/signed_policy.jws").value();
  EXPECT_EQ(manager_->Add(kUser, signed_policy).status().code(),
            absl::StatusCode::kInvalidArgument);
  trellis::GtaCert cert;
  cert.set_user_id(kUser);
  cert.set_id("signer");
  cert.add_types("policy");
  cert.set_der(ca::CertificatesFromPem(
                   ReadFile(pki.path() + "/refvalue_signer.pem").value())
                   ->front());
  ASSERT_TRUE(storage_->PutCerts({cert}).ok());
  auto added = manager_->Add(kUser, signed_policy);
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->rego(),
            "package verification\nresult := {\"policy_matched\": true}\n");
  std::string tampered = signed_policy.content;
  tampered[tampered.size() - 4] ^= 1;
  signed_policy.name = "tampered";
  signed_policy.content = tampered;
  EXPECT_FALSE(manager_->Add(kUser, signed_policy).ok());
  // A certificate of another type does not sign policies.
  cert.clear_types();
  cert.add_types("refvalue");
  ASSERT_TRUE(storage_->PutCerts({cert}).ok());
  signed_policy.name = "again";
  signed_policy.content = ReadFile(pki.path() + "/signed_policy.jws").value();
  EXPECT_FALSE(manager_->Add(kUser, signed_policy).ok());
  PolicyChange change;
  change.id = added->id();
  change.content_type = "text";
  EXPECT_EQ(manager_->Update(kUser, change).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace trellis::gta
