// Storage of the GTA service's per-user data (policies) and its signing
// keys. Every write is
// durable when it returns; backends make every method safe to call
// concurrently. User ids and resource ids are 1..36 bytes without NUL (the
// manager checks them).
#ifndef TRELLIS_STORAGE_GTA_STORAGE_H_
#define TRELLIS_STORAGE_GTA_STORAGE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "trellis_gta.pb.h"

namespace trellis::storage {

class GtaStorage {
 public:
  virtual ~GtaStorage() = default;

  // Creates or replaces the policy (user_id, id).
  virtual absl::Status PutPolicy(const trellis::GtaPolicy& policy) = 0;
  virtual absl::StatusOr<std::optional<trellis::GtaPolicy>> GetPolicy(
      const std::string& user_id, const std::string& id) = 0;
  // The user's policies in id order.
  virtual absl::StatusOr<std::vector<trellis::GtaPolicy>> ListPolicies(
      const std::string& user_id) = 0;
  // Deletes them all or none (ids not held are skipped).
  virtual absl::Status DeletePolicies(const std::string& user_id,
                                      const std::vector<std::string>& ids) = 0;

  // Creates or replaces certificates and CRLs, all or none.
  virtual absl::Status PutCerts(const std::vector<trellis::GtaCert>& certs) = 0;
  // The user's certificates and CRLs in id order.
  virtual absl::StatusOr<std::vector<trellis::GtaCert>> ListCerts(
      const std::string& user_id) = 0;
  virtual absl::Status DeleteCerts(const std::string& user_id,
                                   const std::vector<std::string>& ids) = 0;

  // Creates or replaces a reference value.
  virtual absl::Status PutRefValue(const trellis::GtaRefValue& value) = 0;
  virtual absl::StatusOr<std::vector<trellis::GtaRefValue>> ListRefValues(
      const std::string& user_id) = 0;
  virtual absl::Status DeleteRefValues(const std::string& user_id,
                                       const std::vector<std::string>& ids) = 0;

  // Small settings (e.g. the GTA log's id).
  virtual absl::Status PutSetting(const std::string& name,
                                  const std::string& value) = 0;
  virtual absl::StatusOr<std::optional<std::string>> GetSetting(
      const std::string& name) = 0;

  // Signing key versions; ALREADY_EXISTS if (name, version) is held.
  virtual absl::Status AddKey(const trellis::GtaKey& key) = 0;
  // Every version, by name then version.
  virtual absl::StatusOr<std::vector<trellis::GtaKey>> ListKeys() = 0;

  // Every user with a policy, certificate or reference value, sorted.
  virtual absl::StatusOr<std::vector<std::string>> ListUsers() = 0;
};

}  // namespace trellis::storage

#endif  // TRELLIS_STORAGE_GTA_STORAGE_H_
