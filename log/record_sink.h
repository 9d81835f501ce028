// Where Trellis' own records go (attestation verdicts, published map roots):
// the one narrow interface their producers see, instead of log storage.
#ifndef TRELLIS_LOG_RECORD_SINK_H_
#define TRELLIS_LOG_RECORD_SINK_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/message_lite.h"

namespace trellis::log {

// A record's leaf value: its deterministic serialization, so equal
// records have equal leaf hashes.
std::string SerializeRecord(const google::protobuf::MessageLite& record);

class RecordSink {
 public:
  virtual ~RecordSink() = default;

  // Queues each record durably as a leaf of log `log_id`, identity = Merkle
  // leaf hash (a record appended twice is stored once). Returns the
  // records' Merkle leaf hashes.
  virtual absl::StatusOr<std::vector<std::string>> Append(
      int64_t log_id, const std::vector<std::string>& records) = 0;
};

}  // namespace trellis::log

#endif  // TRELLIS_LOG_RECORD_SINK_H_
