// The registrar with real TPMs (swtpm) on the host side: registration,
// credential activation, EK certificates from swtpm's local CA.
#include "attest/registrar/registrar.h"

#include <fstream>
#include <thread>
#include <vector>

#include "attest/host/tpm_device.h"
#include "attest/testing/swtpm.h"
#include "gtest/gtest.h"
#include "storage/rocksdb/attest_storage.h"
#include "util/test_util.h"

namespace trellis::attest {
namespace {

class RegistrarTest : public ::testing::Test {
 protected:
  void SetUp() override { Open({}); }
  void Open(const RegistrarOptions& options) {
    registrar_.reset();
    storage_.reset();
    db_.reset();
    db_ = std::move(*storage::rocksdb::Database::Open({dir_.path() + "/db"}));
    storage_ =
        std::make_unique<storage::rocksdb::RocksAttestStorage>(db_.get());
    auto registrar = Registrar::Create(storage_.get(), options);
    ASSERT_TRUE(registrar.ok()) << registrar.status();
    registrar_ = std::move(*registrar);
  }
  std::string CaFile() {
    const std::string path = dir_.path() + "/ca.pem";
    std::ofstream(path) << trellis::testing::LocalCaBundle();
    return path;
  }
  // Registers `device`'s EK and a new AK as `host_id`; returns the AK.
  host::KeyBlob RegisterAndActivate(host::TpmDevice& device,
                                    const std::string& host_id,
                                    const std::string& ek_certificate = "") {
    host::KeyBlob ak = *device.CreateAk("ecc");
    absl::StatusOr<Credential> credential = registrar_->Register(
        {host_id, *device.EkPublic(), ek_certificate, ak.public_area});
    EXPECT_TRUE(credential.ok()) << credential.status();
    absl::StatusOr<std::string> secret = device.ActivateCredential(
        ak, credential->credential_blob, credential->encrypted_secret);
    EXPECT_TRUE(secret.ok()) << secret.status();
    EXPECT_TRUE(registrar_->Activate(host_id, *secret).ok());
    return ak;
  }

  trellis::testing::TempDir dir_;
  std::unique_ptr<storage::rocksdb::Database> db_;
  std::unique_ptr<storage::rocksdb::RocksAttestStorage> storage_;
  std::unique_ptr<Registrar> registrar_;
};

TEST_F(RegistrarTest, ActivatedAkIsUsableAndSurvivesRestart) {
  trellis::testing::Swtpm tpm;
  auto device = *host::TpmDevice::Open(tpm.tcti());
  host::KeyBlob ak = RegisterAndActivate(*device, "host-1");
  absl::StatusOr<trellis::HostRegistration> host =
      registrar_->ActiveHostForAk(ak.public_area);
  ASSERT_TRUE(host.ok()) << host.status();
  EXPECT_EQ(host->host_id(), "host-1");
  EXPECT_FALSE(host->ek_certificate_verified());
  Open({});  // Restart.
  EXPECT_TRUE(registrar_->ActiveHostForAk(ak.public_area).ok());
}

TEST_F(RegistrarTest, UnactivatedOrUnknownAkIsRefused) {
  trellis::testing::Swtpm tpm;
  auto device = *host::TpmDevice::Open(tpm.tcti());
  host::KeyBlob ak = *device->CreateAk("rsa");
  EXPECT_EQ(registrar_->ActiveHostForAk(ak.public_area).status().code(),
            absl::StatusCode::kNotFound);
  ASSERT_TRUE(
      registrar_->Register({"host-2", *device->EkPublic(), "", ak.public_area})
          .ok());
  EXPECT_EQ(registrar_->ActiveHostForAk(ak.public_area).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(registrar_->Activate("host-2", "guess").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(registrar_->Activate("nobody", "guess").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registrar_->ActiveHostForAk(ak.public_area).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RegistrarTest, AkOfAnotherTpmCannotBeActivated) {
  // The host claims TPM A's EK but its AK lives in TPM B.
  trellis::testing::Swtpm tpm_a, tpm_b;
  auto a = *host::TpmDevice::Open(tpm_a.tcti());
  auto b = *host::TpmDevice::Open(tpm_b.tcti());
  host::KeyBlob ak = *b->CreateAk("ecc");
  absl::StatusOr<Credential> credential =
      registrar_->Register({"mixed", *a->EkPublic(), "", ak.public_area});
  ASSERT_TRUE(credential.ok());
  EXPECT_FALSE(b->ActivateCredential(ak, credential->credential_blob,
                                     credential->encrypted_secret)
                   .ok());
  EXPECT_EQ(registrar_->ActiveHostForAk(ak.public_area).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(RegistrarTest, RejectsBadKeysAndForeignAks) {
  trellis::testing::Swtpm tpm;
  auto device = *host::TpmDevice::Open(tpm.tcti());
  const std::string ek = *device->EkPublic();
  host::KeyBlob app = *device->CreateAppKey();  // Not restricted: not an AK.
  EXPECT_EQ(
      registrar_->Register({"h", ek, "", app.public_area}).status().code(),
      absl::StatusCode::kInvalidArgument);
  host::KeyBlob ak = *device->CreateAk("ecc");
  EXPECT_EQ(registrar_->Register({"h", ak.public_area, "", ak.public_area})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);  // An AK is no EK.
  EXPECT_EQ(
      registrar_->Register({"bad id!", ek, "", ak.public_area}).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(registrar_->Register({"h", "garbage", "", ak.public_area})
                .status()
                .code(),
            absl::StatusCode::kInvalidArgument);
  RegisterAndActivate(*device, "owner");
  host::KeyBlob owned = *device->CreateAk("ecc");
  ASSERT_TRUE(registrar_->Register({"first", ek, "", owned.public_area}).ok());
  EXPECT_EQ(registrar_->Register({"second", ek, "", owned.public_area})
                .status()
                .code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_F(RegistrarTest, ChecksEkCertificatesAgainstTheManufacturerCa) {
  trellis::testing::Swtpm tpm(/*ek_certificate=*/true);
  trellis::testing::Swtpm other(/*ek_certificate=*/true);
  auto device = *host::TpmDevice::Open(tpm.tcti());
  auto other_device = *host::TpmDevice::Open(other.tcti());
  absl::StatusOr<std::string> cert = device->EkCertificate();
  ASSERT_TRUE(cert.ok()) << cert.status();
  Open({CaFile(), /*require_ek_certificate=*/true});

  host::KeyBlob ak = RegisterAndActivate(*device, "certified", *cert);
  EXPECT_TRUE(
      registrar_->ActiveHostForAk(ak.public_area)->ek_certificate_verified());
  // Another TPM's certificate for this EK, no certificate, or garbage.
  host::KeyBlob ak2 = *device->CreateAk("ecc");
  const std::string ek = *device->EkPublic();
  EXPECT_EQ(
      registrar_
          ->Register({"x", ek, *other_device->EkCertificate(), ak2.public_area})
          .status()
          .code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(
      registrar_->Register({"x", ek, "", ak2.public_area}).status().code(),
      absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(registrar_->Register({"x", ek, "not a cert", ak2.public_area})
                .status()
                .code(),
            absl::StatusCode::kPermissionDenied);
  // A CA that did not issue it.
  const std::string other_ca = dir_.path() + "/other-ca.pem";
  ASSERT_EQ(
      std::system(("openssl req -x509 -newkey ec -pkeyopt "
                   "ec_paramgen_curve:P-256 -nodes -subj /CN=other -days "
                   "1 -keyout " +
                   dir_.path() + "/other.key -out " + other_ca + " 2>/dev/null")
                      .c_str()),
      0);
  Open({other_ca, true});
  EXPECT_EQ(
      registrar_->Register({"y", ek, *cert, ak2.public_area}).status().code(),
      absl::StatusCode::kPermissionDenied);
  // An unreadable CA file is a configuration error.
  EXPECT_FALSE(
      Registrar::Create(storage_.get(), {dir_.path() + "/missing.pem", true})
          .ok());
}

TEST_F(RegistrarTest, AnotherEkForAHostIdIsRefusedUntilAnOperatorRemovesIt) {
  trellis::testing::Swtpm tpm_a, tpm_b;
  auto a = *host::TpmDevice::Open(tpm_a.tcti());
  auto b = *host::TpmDevice::Open(tpm_b.tcti());
  host::KeyBlob ak_a = RegisterAndActivate(*a, "web-1");
  host::KeyBlob ak_b = *b->CreateAk("ecc");
  EXPECT_EQ(
      registrar_->Register({"web-1", *b->EkPublic(), "", ak_b.public_area})
          .status()
          .code(),
      absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(registrar_->ActiveHostForAk(ak_a.public_area).ok());

  ASSERT_TRUE(registrar_->RemoveHost("web-1").ok());
  EXPECT_EQ(registrar_->RemoveHost("web-1").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(registrar_->ActiveHostForAk(ak_a.public_area).status().code(),
            absl::StatusCode::kNotFound);
  RegisterAndActivate(*b, "web-1");
  EXPECT_EQ(registrar_->GetHost("web-1")->ek_public(), *b->EkPublic());
}

TEST_F(RegistrarTest, ANewAkOfAnActiveHostWaitsForItsActivation) {
  trellis::testing::Swtpm tpm;
  auto device = *host::TpmDevice::Open(tpm.tcti());
  host::KeyBlob old_ak = RegisterAndActivate(*device, "web-2");
  // Anyone can re-register with the (public) EK; the host keeps attesting
  // with its current AK until the new one is proven to be in the TPM.
  host::KeyBlob new_ak = *device->CreateAk("ecc");
  absl::StatusOr<Credential> credential = registrar_->Register(
      {"web-2", *device->EkPublic(), "", new_ak.public_area});
  ASSERT_TRUE(credential.ok()) << credential.status();
  EXPECT_TRUE(registrar_->ActiveHostForAk(old_ak.public_area).ok());
  EXPECT_FALSE(registrar_->ActiveHostForAk(new_ak.public_area).ok());
  EXPECT_EQ(registrar_->Activate("web-2", "guess").code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_TRUE(registrar_->ActiveHostForAk(old_ak.public_area).ok());

  absl::StatusOr<std::string> secret = device->ActivateCredential(
      new_ak, credential->credential_blob, credential->encrypted_secret);
  ASSERT_TRUE(secret.ok()) << secret.status();
  ASSERT_TRUE(registrar_->Activate("web-2", *secret).ok());
  EXPECT_TRUE(registrar_->ActiveHostForAk(new_ak.public_area).ok());
  EXPECT_EQ(registrar_->ActiveHostForAk(old_ak.public_area).status().code(),
            absl::StatusCode::kNotFound);
}

trellis::TpmClockState Clock(uint64_t clock, uint32_t resets) {
  trellis::TpmClockState state;
  state.set_clock(clock);
  state.set_reset_count(resets);
  return state;
}

TEST_F(RegistrarTest, TheClockOnlyAdvances) {
  trellis::testing::Swtpm tpm;
  auto device = *host::TpmDevice::Open(tpm.tcti());
  RegisterAndActivate(*device, "web-3");
  ASSERT_TRUE(registrar_->RecordClock("web-3", Clock(100, 1)).ok());
  ASSERT_TRUE(registrar_->RecordClock("web-3", Clock(50, 1)).ok());
  EXPECT_EQ(registrar_->GetHost("web-3")->last_clock().clock(), 100u);
  ASSERT_TRUE(registrar_->RecordClock("web-3", Clock(10, 2)).ok());
  EXPECT_EQ(registrar_->GetHost("web-3")->last_clock().clock(), 10u);
  EXPECT_EQ(registrar_->RecordClock("nobody", Clock(1, 1)).code(),
            absl::StatusCode::kNotFound);
}

// Verdicts finish in any order; the stored clock must end at the latest
// reading, never at whichever write came last.
TEST_F(RegistrarTest, ConcurrentClockUpdatesKeepTheLatest) {
  trellis::testing::Swtpm tpm;
  auto device = *host::TpmDevice::Open(tpm.tcti());
  RegisterAndActivate(*device, "web-4");
  constexpr int kThreads = 4;
  constexpr int kPerThread = 200;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([this, t] {
      // Thread t writes t, t+4, t+8, ...: interleaved, so a lost update or
      // a write back of an older value shows as a final value below max.
      for (int i = 0; i < kPerThread; ++i) {
        EXPECT_TRUE(
            registrar_->RecordClock("web-4", Clock(1 + t + kThreads * i, 1))
                .ok());
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(registrar_->GetHost("web-4")->last_clock().clock(),
            static_cast<uint64_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace trellis::attest
