// The id of a log tree made with its first record and remembered in a
// setting, so that roles which may never write make no empty log.
#ifndef TRELLIS_LOG_LAZY_LOG_ID_H_
#define TRELLIS_LOG_LAZY_LOG_ID_H_

#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

namespace trellis::log {

class LazyLogId {
 public:
  using GetSetting =
      std::function<absl::StatusOr<std::optional<std::string>>()>;
  using PutSetting = std::function<absl::Status(const std::string&)>;
  using CreateLog = std::function<absl::StatusOr<int64_t>()>;

  LazyLogId(GetSetting get, PutSetting put, CreateLog create)
      : get_(std::move(get)),
        put_(std::move(put)),
        create_(std::move(create)) {}

  // The kept id, or a new log's (kept before it is returned). Thread-safe:
  // concurrent first calls make one log.
  absl::StatusOr<int64_t> Get();

 private:
  const GetSetting get_;
  const PutSetting put_;
  const CreateLog create_;
  absl::Mutex mu_;
  int64_t log_id_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace trellis::log

#endif  // TRELLIS_LOG_LAZY_LOG_ID_H_
