// The value of a log root record ('r' keys): the tree size the sequencer
// stated, then the signed root as opaque bytes. Storage never parses a
// LogRootV1; the revision is in the key.
//
//   0x00 | tree_size (uint64, big-endian) | trillian.SignedLogRoot
//
// The leading zero byte can never start a serialised SignedLogRoot (field
// number 0 does not exist), which tells this form from the plain protos
// older versions wrote (see legacy_roots.h).
#ifndef TRELLIS_STORAGE_ROCKSDB_ROOT_RECORD_H_
#define TRELLIS_STORAGE_ROCKSDB_ROOT_RECORD_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/rocksdb/database.h"
#include "trillian.pb.h"

namespace trellis::storage::rocksdb {

inline constexpr char kRootRecordFormat = '\x00';

struct RootRecord {
  uint64_t tree_size = 0;
  trillian::SignedLogRoot root;
};

std::string EncodeRootRecord(uint64_t tree_size,
                             const trillian::SignedLogRoot& root);

// FAILED_PRECONDITION for a record in the older plain-proto form (the data
// directory needs UpgradeLegacyRootRecords); DATA_LOSS if corrupt.
absl::StatusOr<RootRecord> DecodeRootRecord(absl::string_view value);

struct LatestRootRecord {
  uint64_t revision = 0;
  RootRecord record;
};

// A log's newest root record; nullopt before its first.
absl::StatusOr<std::optional<LatestRootRecord>> ReadLatestRootRecord(
    Database& db, int64_t tree_id);

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_ROOT_RECORD_H_
