// Each user's Rego policies (the GTA policy API's rules): limits, unique
// names and ids, versions, default policies per attester type, the upload
// check (compiled and run on a sample input), every change in the GTA log
// before it is acknowledged, and the compiled policies an attestation
// applies.
#ifndef TRELLIS_GTA_POLICY_MANAGER_H_
#define TRELLIS_GTA_POLICY_MANAGER_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gta/change_log.h"
#include "policy/rego_program.h"
#include "policy/rego_sandbox.h"
#include "storage/gta_storage.h"

namespace trellis::gta {

inline constexpr size_t kMaxPoliciesPerUser = 30;
inline constexpr size_t kMaxPolicyRegoBytes = 500 << 10;
inline constexpr size_t kMaxIdsPerRequest = 10;
inline constexpr size_t kMaxIdLength = 36;
inline constexpr size_t kMaxNameLength = 255;
inline constexpr size_t kMaxDescriptionLength = 512;

struct NewPolicy {
  std::string id;  // Empty: a random UUID.
  std::string name;
  std::string description;
  std::vector<std::string> attester_types;
  std::string content_type;  // "text" (base64 Rego) or "jwt"
  std::string content;
  bool is_default = false;
};

// Fields left empty are unchanged.
struct PolicyChange {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> attester_types;
  std::optional<std::string> content_type;
  std::optional<std::string> content;
  std::optional<bool> is_default;
};

struct PolicyDeletion {
  std::string delete_type;  // "id", "attester_type" or "all"
  std::vector<std::string> ids;
  std::string attester_type;
};

// A policy an attestation applies, compiled.
struct AppliedPolicy {
  trellis::GtaPolicy policy;
  std::shared_ptr<const policy::RegoProgram> rego;
};

class PolicyManager {
 public:
  using Clock = std::function<absl::Time()>;
  // Policies are compiled and evaluated in `sandbox`.
  PolicyManager(storage::GtaStorage* storage, ChangeLog* changes,
                policy::RegoSandbox* sandbox, Clock clock = absl::Now)
      : storage_(storage),
        changes_(changes),
        sandbox_(sandbox),
        clock_(std::move(clock)) {}

  // INVALID_ARGUMENT for a field out of its limits or a policy that does
  // not compile or run, ALREADY_EXISTS for a name or id the user has,
  // RESOURCE_EXHAUSTED beyond kMaxPoliciesPerUser.
  absl::StatusOr<trellis::GtaPolicy> Add(const std::string& user_id,
                                         NewPolicy request);
  // NOT_FOUND for an id the user does not have; the version grows by one.
  absl::StatusOr<trellis::GtaPolicy> Update(const std::string& user_id,
                                            PolicyChange change);
  // The deleted policies (none is not an error).
  absl::StatusOr<std::vector<trellis::GtaPolicy>> Delete(
      const std::string& user_id, const PolicyDeletion& deletion);
  // By ids (at most kMaxIdsPerRequest; NOT_FOUND if none is held), else
  // every policy of the user for `attester_type` (empty: all).
  absl::StatusOr<std::vector<trellis::GtaPolicy>> Query(
      const std::string& user_id, const std::vector<std::string>& ids,
      const std::string& attester_type);

  // The policies an attestation of `attester_type` applies: `ids` (each
  // must exist and name that type: else INVALID_ARGUMENT "Policy not found
  // for ids: [...]") or, without ids, the user's default policies for it.
  absl::StatusOr<std::vector<AppliedPolicy>> ForAttestation(
      const std::string& user_id, const std::string& attester_type,
      const std::vector<std::string>& ids);

 private:
  // The Rego of `content` of `content_type` ("text": base64 Rego; "jwt": a
  // JWS signed by one of the user's policy certificates whose payload's
  // "policy" is the base64 Rego), checked for `attester_types`.
  absl::StatusOr<std::shared_ptr<const policy::RegoProgram>> Compile(
      const std::string& user_id, const std::string& content_type,
      const std::string& content,
      const std::vector<std::string>& attester_types, std::string* rego);
  absl::Status Record(const trellis::GtaPolicy& policy,
                      const std::string& action);
  absl::StatusOr<std::shared_ptr<const policy::RegoProgram>> Compiled(
      const trellis::GtaPolicy& policy);

  storage::GtaStorage* const storage_;
  ChangeLog* const changes_;
  policy::RegoSandbox* const sandbox_;
  const Clock clock_;
  // Serialises changes: the count and name checks hold until the write.
  absl::Mutex write_mu_;
  absl::Mutex cache_mu_;
  // "<user>\0<id>" -> the policy compiled at some version.
  struct CacheEntry {
    // A re-added policy reuses its id and version 1: the Rego's digest
    // tells the versions apart.
    std::string rego_sha256;
    std::shared_ptr<const policy::RegoProgram> rego;
  };
  absl::flat_hash_map<std::string, CacheEntry> compiled_
      ABSL_GUARDED_BY(cache_mu_);
};

// INVALID_ARGUMENT unless `user_id` is 1..36 bytes without control
// characters (the User-Id header).
absl::Status ValidateUserId(const std::string& user_id);

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_POLICY_MANAGER_H_
