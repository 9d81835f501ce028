#include "gta/change_log.h"

#include <vector>

namespace trellis::gta {

absl::StatusOr<std::string> ChangeLog::Append(trellis::GtaChangeRecord record) {
  record.set_type(kChangeRecordType);
  record.set_time_unix_nanos(absl::ToUnixNanos(clock_()));
  absl::StatusOr<int64_t> log_id = log_id_();
  if (!log_id.ok()) return log_id.status();
  absl::StatusOr<std::vector<std::string>> hashes =
      sink_->Append(*log_id, {log::SerializeRecord(record)});
  if (!hashes.ok()) return hashes.status();
  return hashes->front();
}

}  // namespace trellis::gta
