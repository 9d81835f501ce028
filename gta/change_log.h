// The GTA log: every change of a user's policies, reference values and
// certificates is appended as a GtaChangeRecord before it is acknowledged.
#ifndef TRELLIS_GTA_CHANGE_LOG_H_
#define TRELLIS_GTA_CHANGE_LOG_H_

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "log/record_sink.h"
#include "trellis_gta.pb.h"

namespace trellis::gta {

inline constexpr char kChangeRecordType[] = "trellis.gta.change.v1";

class ChangeLog {
 public:
  // Finds (or makes, with the first record) the log's tree.
  using LogIdProvider = std::function<absl::StatusOr<int64_t>()>;
  using Clock = std::function<absl::Time()>;

  ChangeLog(log::RecordSink* sink, LogIdProvider log_id,
            Clock clock = absl::Now)
      : sink_(sink), log_id_(std::move(log_id)), clock_(std::move(clock)) {}

  // Appends `record` durably (type and time filled in): its leaf hash.
  absl::StatusOr<std::string> Append(trellis::GtaChangeRecord record);

 private:
  log::RecordSink* const sink_;
  const LogIdProvider log_id_;
  const Clock clock_;
};

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_CHANGE_LOG_H_
