#include "gta/cert_manager.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "crypto/keys.h"
#include "gtest/gtest.h"
#include "storage/rocksdb/gta_storage.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::gta {
namespace {

class NullSink : public log::RecordSink {
 public:
  absl::StatusOr<std::vector<std::string>> Append(
      int64_t, const std::vector<std::string>& records) override {
    for (const std::string& record : records) {
      trellis::GtaChangeRecord parsed;
      EXPECT_TRUE(parsed.ParseFromString(record));
      actions.push_back(parsed.resource() + ":" + parsed.action());
    }
    return std::vector<std::string>(records.size(), "hash");
  }
  std::vector<std::string> actions;
};

constexpr char kUser[] = "alice";

class CertManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(std::system(absl::StrCat("/usr/bin/python3 "
                                       "gta/testdata/make_pki.py ",
                                       pki_.path(), " 2>/dev/null")
                              .c_str()),
              0);
    db_ = std::move(
        storage::rocksdb::Database::Open({dir_.path() + "/db"}).value());
    storage_ = std::make_unique<storage::rocksdb::RocksGtaStorage>(db_.get());
    changes_ = std::make_unique<ChangeLog>(
        &sink_, [] { return absl::StatusOr<int64_t>(9); });
    certs_ = std::make_unique<CertManager>(storage_.get(), changes_.get());
  }

  std::string Pem(const std::string& file) {
    return ReadFile(pki_.path() + "/" + file).value();
  }
  absl::StatusOr<trellis::GtaCert> Add(const std::string& name,
                                       const std::string& file,
                                       std::vector<std::string> types) {
    return certs_->Add(kUser, {name, "", std::move(types), Pem(file), false});
  }
  absl::Status VerifyAk(const std::vector<std::string>& files,
                        const std::string& type = "tpm_boot") {
    std::vector<std::string> pems;
    for (const std::string& file : files) pems.push_back(Pem(file));
    auto key = certs_->VerifyAkChain(kUser, type, pems);
    if (!key.ok()) return key.status();
    // It is the AK's key.
    EXPECT_EQ(crypto::MarshalPublicKey(**key).value(),
              ReadFile(pki_.path() + "/ak.pub").value());
    return absl::OkStatus();
  }

  testing::TempDir dir_;
  testing::TempDir pki_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksGtaStorage> storage_;
  NullSink sink_;
  std::unique_ptr<ChangeLog> changes_;
  std::unique_ptr<CertManager> certs_;
};

TEST_F(CertManagerTest, ChecksCertificatesOnUpload) {
  auto root = Add("root", "root.pem", {"tpm_boot", "tpm_ima"});
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(root->id().size(), 32u);
  EXPECT_EQ(root->version(), 1u);
  for (const auto& [file, types] :
       std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"rsa1024.pem", {"tpm_boot"}},
           {"expired.pem", {"tpm_boot"}},
           {"sha1.pem", {"tpm_boot"}},
           {"intermediate.pem", {"bogus"}},
           {"intermediate.pem", {"crl", "tpm_boot"}},
           {"intermediate.pem", {}},
       }) {
    EXPECT_EQ(Add("x-" + file, file, types).status().code(),
              absl::StatusCode::kInvalidArgument)
        << file;
  }
  EXPECT_EQ(certs_->Add(kUser, {"junk", "", {"tpm_boot"}, "not pem", false})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Add("root", "intermediate.pem", {"tpm_boot"}).status().code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(certs_->Query(kUser, {}, "")->size(), 1u);
  EXPECT_TRUE(certs_->Query("bob", {}, "")->empty());

  CertChange change;
  change.id = root->id();
  change.name = "renamed";
  auto updated = certs_->Update(kUser, change);
  ASSERT_TRUE(updated.ok()) << updated.status();
  EXPECT_EQ(updated->version(), 2u);
  EXPECT_EQ(updated->der(), root->der());
  change.types = std::vector<std::string>{"crl"};
  EXPECT_EQ(certs_->Update(kUser, change).status().code(),
            absl::StatusCode::kInvalidArgument);
  change.id = "nope";
  EXPECT_EQ(certs_->Update(kUser, change).status().code(),
            absl::StatusCode::kNotFound);

  // At most 10 certificates.
  for (int i = 1; i < 10; ++i) {
    ASSERT_TRUE(Add(absl::StrCat("copy", i), "root.pem", {"policy"}).ok());
  }
  EXPECT_EQ(Add("eleventh", "root.pem", {"policy"}).status().code(),
            absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(certs_->Delete(kUser, {"type", {}, "policy"})->size(), 9u);
}

TEST_F(CertManagerTest, VerifiesAkChainsWithCrls) {
  // Nothing to anchor on yet.
  EXPECT_FALSE(VerifyAk({"ak.pem", "intermediate.pem"}).ok());
  ASSERT_TRUE(Add("root", "root.pem", {"tpm_boot"}).ok());
  EXPECT_TRUE(VerifyAk({"ak.pem", "intermediate.pem"}).ok());
  // Without the intermediate the chain does not reach the root.
  EXPECT_FALSE(VerifyAk({"ak.pem"}).ok());
  // Anchors are per attester type and per user.
  EXPECT_FALSE(VerifyAk({"ak.pem", "intermediate.pem"}, "tpm_ima").ok());
  EXPECT_FALSE(certs_
                   ->VerifyAkChain("bob", "tpm_boot",
                                   {Pem("ak.pem"), Pem("intermediate.pem")})
                   .ok());
  // A self-signed AK never passes, even stored as an anchor.
  ASSERT_TRUE(Add("self", "self_signed_ak.pem", {"tpm_boot"}).ok());
  EXPECT_EQ(VerifyAk({"self_signed_ak.pem"}).message(),
            "a self-signed AK certificate is not trusted");
  // An intermediate stored as anchor serves alone.
  auto intermediate = Add("intermediate", "intermediate.pem", {"tpm_boot"});
  ASSERT_TRUE(intermediate.ok());
  EXPECT_TRUE(VerifyAk({"ak.pem"}).ok());

  // CRLs: fresh, with reasons, signed by one of the user's certificates.
  EXPECT_EQ(Add("stale", "crl_stale.pem", {"crl"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Add("no-reason", "crl_no_reason.pem", {"crl"}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Add("stranger", "crl_stranger.pem", {"crl"}).status().message(),
            "the CRL is signed by none of your certificates");
  // The leaf itself revoked (GTA does not check the AK against CRLs).
  auto crl = Add("crl-ak", "crl_ak.pem", {"crl"});
  ASSERT_TRUE(crl.ok()) << crl.status();
  EXPECT_EQ(VerifyAk({"ak.pem"}).message(), "the AK certificate is revoked");
  EXPECT_EQ(certs_->Query(kUser, {}, "crl")->size(), 1u);
  // Deleting the CRL lifts it.
  ASSERT_EQ(certs_->Delete(kUser, {"type", {}, "crl"})->size(), 1u);
  EXPECT_TRUE(VerifyAk({"ak.pem"}).ok());

  // The root's CRL revokes the stored intermediate: it anchors nothing and
  // the chain through it is refused.
  ASSERT_TRUE(Add("crl-root", "crl_intermediate.pem", {"crl"}).ok());
  auto stored = certs_->Query(kUser, {intermediate->id()}, "");
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ(stored->at(0).valid_code(), 2);
  EXPECT_EQ(stored->at(0).revoked_reason(), 1);  // keyCompromise
  EXPECT_EQ(VerifyAk({"ak.pem", "intermediate.pem"}).message(),
            "a certificate of the AK's chain is revoked");
  // Every change was logged, the revocation too.
  EXPECT_NE(
      std::find(sink_.actions.begin(), sink_.actions.end(), "cert:revoke"),
      sink_.actions.end());
}

}  // namespace
}  // namespace trellis::gta
