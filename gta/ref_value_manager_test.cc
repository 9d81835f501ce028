#include "gta/ref_value_manager.h"

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "gta/cert_manager.h"
#include "gtest/gtest.h"
#include "storage/rocksdb/gta_storage.h"
#include "util/file.h"
#include "util/test_util.h"

namespace trellis::gta {
namespace {

class CountingSink : public log::RecordSink {
 public:
  absl::StatusOr<std::vector<std::string>> Append(
      int64_t, const std::vector<std::string>& records) override {
    appended += records.size();
    return std::vector<std::string>(records.size(), "hash");
  }
  size_t appended = 0;
};

constexpr char kUser[] = "alice";

TEST(RefValueManagerTest, SignedValuesOnlyAndTheirDigests) {
  testing::TempDir dir, pki;
  ASSERT_EQ(std::system(absl::StrCat("/usr/bin/python3 "
                                     "gta/testdata/make_pki.py ",
                                     pki.path(), " 2>/dev/null")
                            .c_str()),
            0);
  auto read = [&](const std::string& f) {
    return ReadFile(pki.path() + "/" + f).value();
  };
  auto db = storage::rocksdb::Database::Open({dir.path()}).value();
  storage::rocksdb::RocksGtaStorage storage(db.get());
  CountingSink sink;
  ChangeLog changes(&sink, [] { return absl::StatusOr<int64_t>(3); });
  CertManager certs(&storage, &changes);
  RefValueManager values(&storage, &changes);

  // No refvalue certificate yet: nothing verifies.
  EXPECT_EQ(values.Add(kUser, {"rv", "", "tpm_ima", read("ref_values.jws")})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(
      certs
          .Add(kUser,
               {"signer", "", {"refvalue"}, read("refvalue_signer.pem"), false})
          .ok());
  auto added = values.Add(
      kUser, {"rv", "from PyJWT", "tpm_ima", read("ref_values.jws")});
  ASSERT_TRUE(added.ok()) << added.status();
  EXPECT_EQ(added->sha256_size(), 2);
  EXPECT_EQ(added->version(), 1u);
  EXPECT_EQ(added->id().find_first_not_of("0123456789"), std::string::npos);

  // Signed by someone else, a certificate of another type, a bad digest, a
  // wrong attester type, a taken name: refused.
  EXPECT_FALSE(
      values.Add(kUser, {"s", "", "tpm_ima", read("ref_values_stranger.jws")})
          .ok());
  EXPECT_FALSE(
      values.Add(kUser, {"ec", "", "tpm_ima", read("ref_values_ec.jws")}).ok());
  ASSERT_TRUE(
      certs.Add(kUser, {"root", "", {"tpm_boot"}, read("root.pem"), false})
          .ok());
  ASSERT_TRUE(
      certs
          .Add(kUser,
               {"ec-signer", "", {"refvalue"}, read("intermediate.pem"), false})
          .ok());
  auto ec = values.Add(kUser, {"ec", "", "tpm_ima", read("ref_values_ec.jws")});
  EXPECT_TRUE(ec.ok()) << ec.status();  // ES256 once its signer is stored.
  EXPECT_FALSE(
      values
          .Add(kUser, {"bad", "", "tpm_ima", read("ref_values_bad_digest.jws")})
          .ok());
  EXPECT_FALSE(
      values.Add(kUser, {"boot", "", "tpm_boot", read("ref_values.jws")}).ok());
  EXPECT_EQ(values.Add(kUser, {"rv", "", "tpm_ima", read("ref_values.jws")})
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
  std::string tampered = read("ref_values.jws");
  tampered[tampered.size() - 5] ^= 1;
  EXPECT_FALSE(values.Add(kUser, {"t", "", "tpm_ima", tampered}).ok());

  const std::set<std::string> digests = values.Digests(kUser).value();
  EXPECT_EQ(digests.size(), 3u);
  EXPECT_TRUE(digests.count(std::string(64, 'b')));  // Lower-cased.
  EXPECT_TRUE(values.Digests("bob")->empty());

  RefValueChange change;
  change.id = added->id();
  change.description = "updated";
  auto updated = values.Update(kUser, change);
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->version(), 2u);
  change.id = "1";
  EXPECT_EQ(values.Update(kUser, change).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(values.Query(kUser, {added->id()}, "")->size(), 1u);
  EXPECT_EQ(values.Delete(kUser, "ids", {added->id()}, "")->size(), 1u);
  EXPECT_EQ(values.Delete(kUser, "type", {}, "tpm_ima")->size(), 1u);
  EXPECT_TRUE(values.Digests(kUser)->empty());
  EXPECT_FALSE(values.Delete(kUser, "bogus", {}, "").ok());
  EXPECT_GE(sink.appended, 7u);
}

}  // namespace
}  // namespace trellis::gta
