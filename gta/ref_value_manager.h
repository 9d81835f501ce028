// Each user's reference values (GTA's ref_value API): a JWS whose payload
// is {"referenceValues": [{"fileName", "sha256"}]}, signed by one of the
// user's certificates of type refvalue, for attester type tpm_ima; at most
// 100 per user; every change logged before it is stored. The union of a
// user's values is what IMA measurements are matched against.
#ifndef TRELLIS_GTA_REF_VALUE_MANAGER_H_
#define TRELLIS_GTA_REF_VALUE_MANAGER_H_

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gta/change_log.h"
#include "storage/gta_storage.h"

namespace trellis::gta {

inline constexpr size_t kMaxRefValuesPerUser = 100;
inline constexpr size_t kMaxRefValueBytes = 10 << 20;

struct NewRefValue {
  std::string name;
  std::string description;
  std::string attester_type;
  std::string content;  // The signed JWS.
  bool is_default = false;
};

struct RefValueChange {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::string> content;
  std::optional<bool> is_default;
};

class RefValueManager {
 public:
  using Clock = std::function<absl::Time()>;
  RefValueManager(storage::GtaStorage* storage, ChangeLog* changes,
                  Clock clock = absl::Now)
      : storage_(storage), changes_(changes), clock_(std::move(clock)) {}

  absl::StatusOr<trellis::GtaRefValue> Add(const std::string& user_id,
                                           NewRefValue request);
  absl::StatusOr<trellis::GtaRefValue> Update(const std::string& user_id,
                                              RefValueChange change);
  // delete_type "id" (ids, at most 10), "type" (attester_type) or "all".
  absl::StatusOr<std::vector<trellis::GtaRefValue>> Delete(
      const std::string& user_id, const std::string& delete_type,
      const std::vector<std::string>& ids, const std::string& attester_type);
  absl::StatusOr<std::vector<trellis::GtaRefValue>> Query(
      const std::string& user_id, const std::vector<std::string>& ids,
      const std::string& attester_type);
  // Every file digest (lower-case hex SHA-256) the user's tpm_ima values
  // list.
  absl::StatusOr<std::set<std::string>> Digests(const std::string& user_id);

 private:
  // The digests of a signed content; INVALID_ARGUMENT if it is not signed
  // by one of the user's refvalue certificates or is malformed.
  absl::StatusOr<std::vector<std::string>> Verify(const std::string& user_id,
                                                  const std::string& content);
  absl::Status Record(const trellis::GtaRefValue& value,
                      const std::string& action);

  storage::GtaStorage* const storage_;
  ChangeLog* const changes_;
  const Clock clock_;
  absl::Mutex write_mu_;
};

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_REF_VALUE_MANAGER_H_
