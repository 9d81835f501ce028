#include "log/lazy_log_id.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace trellis::log {

absl::StatusOr<int64_t> LazyLogId::Get() {
  absl::MutexLock lock(&mu_);
  if (log_id_ != 0) return log_id_;
  absl::StatusOr<std::optional<std::string>> kept = get_();
  if (!kept.ok()) return kept.status();
  int64_t log_id = 0;
  if (kept->has_value() && !absl::SimpleAtoi(**kept, &log_id)) {
    return absl::DataLossError("the stored log id is not a number");
  }
  if (log_id == 0) {
    absl::StatusOr<int64_t> created = create_();
    if (!created.ok()) return created.status();
    if (absl::Status s = put_(absl::StrCat(*created)); !s.ok()) return s;
    log_id = *created;
  }
  log_id_ = log_id;
  return log_id;
}

}  // namespace trellis::log
