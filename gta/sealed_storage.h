// GTA's row integrity: every policy, certificate, CRL and reference value
// row is sealed with the FSK (RSA-PSS over the row, its user and id
// included) when written and its seal checked when read, so a row changed
// in the database behind the service's back, or copied under another
// user's or id's key, reads as valid_code 1 and is not applied (policies
// and CRLs refuse the attestation, certificates and reference values are
// not trusted) nor re-sealed. Seals cover rows, not which rows exist: a
// deleted row or an older sealed version put back is caught by comparing
// with the GTA log, which holds every change's version and content digest.
// Rows written before sealing existed are sealed once, at the first Open
// of a database that has no sealed row. A layer over the storage, so the
// managers above see rows as before plus their valid_code.
#ifndef TRELLIS_GTA_SEALED_STORAGE_H_
#define TRELLIS_GTA_SEALED_STORAGE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gta/key_ring.h"
#include "storage/gta_storage.h"

namespace trellis::gta {

// valid_code of a row whose seal does not verify (GTA's code).
inline constexpr int kSealBroken = 1;

// FAILED_PRECONDITION naming `row` if it read back with a broken seal.
template <typename Row>
absl::Status Intact(const Row& row) {
  if (row.valid_code() != kSealBroken) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat("the stored ", Row::descriptor()->name(), " ", row.id(),
                   " failed its integrity check: delete it and add it "
                   "again"));
}

// The row of `rows` with `id`, for an update: NOT_FOUND ("no <what> with
// id ...") if there is none, FAILED_PRECONDITION if it read back broken.
template <typename Row>
absl::StatusOr<Row> FindIntact(const std::vector<Row>& rows,
                               const std::string& id, absl::string_view what) {
  for (const Row& row : rows) {
    if (row.id() != id) continue;
    if (absl::Status s = Intact(row); !s.ok()) return s;
    return row;
  }
  return absl::NotFoundError(absl::StrCat("no ", what, " with id ", id));
}

class SealedGtaStorage : public storage::GtaStorage {
 public:
  // Seals the rows of `rows` that have no seal yet (the first start with
  // sealing), then serves them. `keys` makes the FSK if there is none.
  static absl::StatusOr<std::unique_ptr<SealedGtaStorage>> Open(
      storage::GtaStorage* rows, KeyRing* keys);

  absl::Status PutPolicy(const trellis::GtaPolicy& policy) override;
  absl::StatusOr<std::optional<trellis::GtaPolicy>> GetPolicy(
      const std::string& user_id, const std::string& id) override;
  absl::StatusOr<std::vector<trellis::GtaPolicy>> ListPolicies(
      const std::string& user_id) override;
  absl::Status DeletePolicies(const std::string& user_id,
                              const std::vector<std::string>& ids) override {
    return rows_->DeletePolicies(user_id, ids);
  }
  absl::Status PutCerts(const std::vector<trellis::GtaCert>& certs) override;
  absl::StatusOr<std::vector<trellis::GtaCert>> ListCerts(
      const std::string& user_id) override;
  absl::Status DeleteCerts(const std::string& user_id,
                           const std::vector<std::string>& ids) override {
    return rows_->DeleteCerts(user_id, ids);
  }
  absl::Status PutRefValue(const trellis::GtaRefValue& value) override;
  absl::StatusOr<std::vector<trellis::GtaRefValue>> ListRefValues(
      const std::string& user_id) override;
  absl::Status DeleteRefValues(const std::string& user_id,
                               const std::vector<std::string>& ids) override {
    return rows_->DeleteRefValues(user_id, ids);
  }
  absl::Status PutSetting(const std::string& name,
                          const std::string& value) override {
    return rows_->PutSetting(name, value);
  }
  absl::StatusOr<std::optional<std::string>> GetSetting(
      const std::string& name) override {
    return rows_->GetSetting(name);
  }
  absl::Status AddKey(const trellis::GtaKey& key) override {
    return rows_->AddKey(key);
  }
  absl::StatusOr<std::vector<trellis::GtaKey>> ListKeys() override {
    return rows_->ListKeys();
  }
  absl::StatusOr<std::vector<std::string>> ListUsers() override {
    return rows_->ListUsers();
  }

 private:
  SealedGtaStorage(storage::GtaStorage* rows, KeyRing* keys)
      : rows_(rows), keys_(keys) {}
  template <typename Row>
  absl::Status Seal(Row& row);
  // Sets valid_code to kSealBroken unless the seal verifies and the row is
  // `user_id`'s.
  template <typename Row>
  void Check(const std::string& user_id, Row& row);
  absl::Status SealLegacyRows();

  storage::GtaStorage* const rows_;
  KeyRing* const keys_;
  absl::Mutex mu_;
  // Digests of (row, seal) pairs already verified: reads on every
  // attestation cost a hash, not an RSA verification.
  absl::flat_hash_set<std::string> verified_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_SEALED_STORAGE_H_
