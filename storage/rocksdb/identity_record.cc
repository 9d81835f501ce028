#include "storage/rocksdb/identity_record.h"

#include "util/varint.h"

namespace trellis::storage::rocksdb {

void AppendPosition(const LeafPosition& position, std::string* record) {
  record->push_back(static_cast<char>(position.kind));
  PutVarint(*record, position.n);
  if (position.kind == LeafPosition::Kind::kQueued) {
    PutVarint(*record, position.offset);
  }
}

absl::StatusOr<std::vector<LeafPosition>> DecodePositions(
    absl::string_view record) {
  std::vector<LeafPosition> positions;
  size_t pos = 0;
  while (pos < record.size()) {
    LeafPosition position;
    position.kind = static_cast<LeafPosition::Kind>(record[pos++]);
    bool ok = GetVarint(record, &pos, &position.n);
    switch (position.kind) {
      case LeafPosition::Kind::kQueued:
        ok = ok && GetVarint(record, &pos, &position.offset);
        break;
      case LeafPosition::Kind::kIndex:
      case LeafPosition::Kind::kLegacyQueued:
        break;
      default:
        ok = false;
    }
    if (!ok) return absl::DataLossError("corrupt identity record");
    positions.push_back(position);
  }
  if (positions.empty()) return absl::DataLossError("empty identity record");
  return positions;
}

}  // namespace trellis::storage::rocksdb
