#include "gta/sealed_storage.h"

#include "absl/strings/str_cat.h"
#include "crypto/digest.h"
#include "crypto/rsa_pss.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace trellis::gta {
namespace {

// Bounds the verified-seal cache; past it, it starts over.
constexpr size_t kMaxVerified = 100000;
// Set once legacy rows were sealed. Deleting it is not enough to have a
// forged row sealed: a database with any sealed row is never sealed again.
constexpr char kLegacySealedSetting[] = "rows_sealed";

// What the seal signs: a domain label with the row's type, then the row
// without its seal, serialized deterministically.
template <typename Row>
std::string SealedBytes(const Row& row) {
  Row copy = row;
  copy.clear_seal();
  copy.clear_seal_key_version();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    copy.SerializeToCodedStream(&coded);
  }
  return absl::StrCat("trellis.gta.row-seal.v1\n", Row::descriptor()->name(),
                      "\n", bytes);
}

// True if any of `users`' rows carries a seal: then sealing began, and an
// unsealed row is one slipped in since.
absl::StatusOr<bool> AnyRowSealed(storage::GtaStorage& rows,
                                  const std::vector<std::string>& users) {
  for (const std::string& user : users) {
    absl::StatusOr<std::vector<trellis::GtaPolicy>> policies =
        rows.ListPolicies(user);
    if (!policies.ok()) return policies.status();
    for (const auto& row : *policies) {
      if (!row.seal().empty()) return true;
    }
    absl::StatusOr<std::vector<trellis::GtaCert>> certs = rows.ListCerts(user);
    if (!certs.ok()) return certs.status();
    for (const auto& row : *certs) {
      if (!row.seal().empty()) return true;
    }
    absl::StatusOr<std::vector<trellis::GtaRefValue>> values =
        rows.ListRefValues(user);
    if (!values.ok()) return values.status();
    for (const auto& row : *values) {
      if (!row.seal().empty()) return true;
    }
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<SealedGtaStorage>> SealedGtaStorage::Open(
    storage::GtaStorage* rows, KeyRing* keys) {
  auto sealed =
      std::unique_ptr<SealedGtaStorage>(new SealedGtaStorage(rows, keys));
  if (absl::Status s = sealed->SealLegacyRows(); !s.ok()) return s;
  return sealed;
}

template <typename Row>
absl::Status SealedGtaStorage::Seal(Row& row) {
  // A row read back broken is never sealed again: that would launder it.
  if (absl::Status s = Intact(row); !s.ok()) return s;
  absl::StatusOr<SigningKey> fsk = keys_->Current(kRecordKey);
  if (!fsk.ok()) return fsk.status();
  absl::StatusOr<std::string> seal =
      crypto::SignRsaPss(*fsk->key, crypto::PssHash::kSha256, SealedBytes(row));
  if (!seal.ok()) return seal.status();
  row.set_seal(*std::move(seal));
  row.set_seal_key_version(fsk->version);
  return absl::OkStatus();
}

template <typename Row>
void SealedGtaStorage::Check(const std::string& user_id, Row& row) {
  // A sealed row copied under another user's key is not that user's.
  if (row.user_id() != user_id) {
    row.set_valid_code(kSealBroken);
    return;
  }
  const std::string bytes = SealedBytes(row);
  const std::string digest =
      crypto::Digest(crypto::DigestAlgorithm::kSha256,
                     {absl::StrCat(bytes.size(), ":"), bytes, row.seal()});
  {
    absl::MutexLock lock(&mu_);
    if (verified_.contains(digest)) return;
  }
  bool intact = false;
  for (const SigningKey& fsk : keys_->Versions(kRecordKey)) {
    if (fsk.version == row.seal_key_version()) {
      intact = crypto::VerifyRsaPss(*fsk.key, crypto::PssHash::kSha256, bytes,
                                    row.seal())
                   .ok();
      break;
    }
  }
  if (!intact) {
    row.set_valid_code(kSealBroken);
    return;
  }
  absl::MutexLock lock(&mu_);
  if (verified_.size() >= kMaxVerified) verified_.clear();
  verified_.insert(digest);
}

absl::Status SealedGtaStorage::SealLegacyRows() {
  absl::StatusOr<std::optional<std::string>> done =
      rows_->GetSetting(kLegacySealedSetting);
  if (!done.ok()) return done.status();
  if (done->has_value()) return absl::OkStatus();
  absl::StatusOr<std::vector<std::string>> users = rows_->ListUsers();
  if (!users.ok()) return users.status();
  if (absl::StatusOr<bool> sealed = AnyRowSealed(*rows_, *users);
      !sealed.ok() || *sealed) {
    return sealed.ok() ? rows_->PutSetting(kLegacySealedSetting, "1")
                       : sealed.status();
  }
  for (const std::string& user : *users) {
    absl::StatusOr<std::vector<trellis::GtaPolicy>> policies =
        rows_->ListPolicies(user);
    if (!policies.ok()) return policies.status();
    for (const trellis::GtaPolicy& policy : *policies) {
      if (!policy.seal().empty()) continue;
      if (absl::Status s = PutPolicy(policy); !s.ok()) return s;
    }
    absl::StatusOr<std::vector<trellis::GtaCert>> certs =
        rows_->ListCerts(user);
    if (!certs.ok()) return certs.status();
    std::vector<trellis::GtaCert> unsealed;
    for (const trellis::GtaCert& cert : *certs) {
      if (cert.seal().empty()) unsealed.push_back(cert);
    }
    if (!unsealed.empty()) {
      if (absl::Status s = PutCerts(unsealed); !s.ok()) return s;
    }
    absl::StatusOr<std::vector<trellis::GtaRefValue>> values =
        rows_->ListRefValues(user);
    if (!values.ok()) return values.status();
    for (const trellis::GtaRefValue& value : *values) {
      if (!value.seal().empty()) continue;
      if (absl::Status s = PutRefValue(value); !s.ok()) return s;
    }
  }
  return rows_->PutSetting(kLegacySealedSetting, "1");
}

absl::Status SealedGtaStorage::PutPolicy(const trellis::GtaPolicy& policy) {
  trellis::GtaPolicy row = policy;
  if (absl::Status s = Seal(row); !s.ok()) return s;
  return rows_->PutPolicy(row);
}

absl::StatusOr<std::optional<trellis::GtaPolicy>> SealedGtaStorage::GetPolicy(
    const std::string& user_id, const std::string& id) {
  absl::StatusOr<std::optional<trellis::GtaPolicy>> row =
      rows_->GetPolicy(user_id, id);
  if (row.ok() && row->has_value()) {
    Check(user_id, **row);
    if ((*row)->id() != id) (*row)->set_valid_code(kSealBroken);
  }
  return row;
}

absl::StatusOr<std::vector<trellis::GtaPolicy>> SealedGtaStorage::ListPolicies(
    const std::string& user_id) {
  absl::StatusOr<std::vector<trellis::GtaPolicy>> rows =
      rows_->ListPolicies(user_id);
  if (rows.ok()) {
    for (trellis::GtaPolicy& row : *rows) Check(user_id, row);
  }
  return rows;
}

absl::Status SealedGtaStorage::PutCerts(
    const std::vector<trellis::GtaCert>& certs) {
  std::vector<trellis::GtaCert> rows = certs;
  for (trellis::GtaCert& row : rows) {
    if (absl::Status s = Seal(row); !s.ok()) return s;
  }
  return rows_->PutCerts(rows);
}

absl::StatusOr<std::vector<trellis::GtaCert>> SealedGtaStorage::ListCerts(
    const std::string& user_id) {
  absl::StatusOr<std::vector<trellis::GtaCert>> rows =
      rows_->ListCerts(user_id);
  if (rows.ok()) {
    for (trellis::GtaCert& row : *rows) Check(user_id, row);
  }
  return rows;
}

absl::Status SealedGtaStorage::PutRefValue(const trellis::GtaRefValue& value) {
  trellis::GtaRefValue row = value;
  if (absl::Status s = Seal(row); !s.ok()) return s;
  return rows_->PutRefValue(row);
}

absl::StatusOr<std::vector<trellis::GtaRefValue>>
SealedGtaStorage::ListRefValues(const std::string& user_id) {
  absl::StatusOr<std::vector<trellis::GtaRefValue>> rows =
      rows_->ListRefValues(user_id);
  if (rows.ok()) {
    for (trellis::GtaRefValue& row : *rows) Check(user_id, row);
  }
  return rows;
}

}  // namespace trellis::gta
