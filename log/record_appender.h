// Appends Trellis' own records (published map roots, attestation verdicts)
// to a log tree, durably queued for the sequencer like any client's leaves.
#ifndef TRELLIS_LOG_RECORD_APPENDER_H_
#define TRELLIS_LOG_RECORD_APPENDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/log_storage.h"
#include "storage/tree_storage.h"

namespace trellis::log {

// Queues each record as a leaf (identity = Merkle leaf hash, so a record
// appended twice is stored once). Returns the records' Merkle leaf hashes.
// FAILED_PRECONDITION unless `log_id` is an active, undeleted LOG tree.
absl::StatusOr<std::vector<std::string>> AppendRecords(
    storage::TreeStorage& trees, storage::LogStorage& logs, int64_t log_id,
    const std::vector<std::string>& records);

}  // namespace trellis::log

#endif  // TRELLIS_LOG_RECORD_APPENDER_H_
