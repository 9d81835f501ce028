// Storage of attestation state: registered hosts (indexed by their AK's
// Name) and evidence kept by its digest, so any appraisal can be re-run.
#ifndef TRELLIS_STORAGE_ATTEST_STORAGE_H_
#define TRELLIS_STORAGE_ATTEST_STORAGE_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "trellis_attest.pb.h"

namespace trellis::storage {

class AttestStorage {
 public:
  virtual ~AttestStorage() = default;

  // Writes a registration durably, replacing the host's previous one (and
  // its AK index entry). ALREADY_EXISTS if its AK belongs to another host.
  virtual absl::Status PutHost(const trellis::HostRegistration& host) = 0;
  virtual absl::StatusOr<std::optional<trellis::HostRegistration>> GetHost(
      const std::string& host_id) = 0;
  // Removes a registration and its AK index entry; NOT_FOUND if none.
  virtual absl::Status DeleteHost(const std::string& host_id) = 0;
  // The host whose AK has this Name.
  virtual absl::StatusOr<std::optional<trellis::HostRegistration>>
  GetHostByAkName(const std::string& ak_name) = 0;

  // Content-addressed evidence: `digest` must be SHA-256(`bytes`).
  virtual absl::Status PutEvidence(const std::string& digest,
                                   const std::string& bytes) = 0;
  virtual absl::StatusOr<std::optional<std::string>> GetEvidence(
      const std::string& digest) = 0;

  // Appraisal policies, versioned: each put is the next version (from 1).
  virtual absl::StatusOr<int64_t> PutPolicy(const std::string& id,
                                            const std::string& text) = 0;
  // The policy at `version` (latest if < 0), nullopt if none.
  struct StoredPolicy {
    int64_t version;
    std::string text;
  };
  virtual absl::StatusOr<std::optional<StoredPolicy>> GetPolicy(
      const std::string& id, int64_t version) = 0;

  // Small settings the attestation service keeps (e.g. its record log).
  virtual absl::Status PutSetting(const std::string& name,
                                  const std::string& value) = 0;
  virtual absl::StatusOr<std::optional<std::string>> GetSetting(
      const std::string& name) = 0;
};

}  // namespace trellis::storage

#endif  // TRELLIS_STORAGE_ATTEST_STORAGE_H_
