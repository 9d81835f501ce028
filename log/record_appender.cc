#include "log/record_appender.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "log/hasher.h"
#include "util/proto_time.h"

namespace trellis::log {

absl::StatusOr<std::vector<std::string>> AppendRecords(
    storage::TreeStorage& trees, storage::LogStorage& logs, int64_t log_id,
    const std::vector<std::string>& records) {
  absl::StatusOr<trillian::Tree> tree = trees.GetTree(log_id);
  if (!tree.ok()) return tree.status();
  if (tree->tree_type() != trillian::LOG ||
      tree->tree_state() != trillian::ACTIVE || tree->deleted()) {
    return absl::FailedPreconditionError(
        absl::StrCat("tree ", log_id, " is not an active LOG tree"));
  }
  std::vector<trillian::LogLeaf> leaves;
  std::vector<std::string> hashes;
  const auto now = ToProto(absl::Now());
  for (const std::string& record : records) {
    trillian::LogLeaf leaf;
    leaf.set_leaf_value(record);
    leaf.set_merkle_leaf_hash(HashLeaf(record));
    leaf.set_leaf_identity_hash(leaf.merkle_leaf_hash());
    *leaf.mutable_queue_timestamp() = now;
    hashes.push_back(leaf.merkle_leaf_hash());
    leaves.push_back(std::move(leaf));
  }
  absl::Status s = logs.QueueLeaves(log_id, std::move(leaves)).status();
  if (!s.ok()) return s;
  return hashes;
}

}  // namespace trellis::log
