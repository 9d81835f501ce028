#include "log/log_manager.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "merkle/hasher.h"
#include "merkle/proof_builder.h"
#include "tlog/tiles.h"
#include "trellis_settings.pb.h"
#include "util/proto_time.h"

namespace trellis::log {
namespace {

// A leaf index and tree size a proof can be asked for.
absl::Status CheckLeafInTree(int64_t leaf_index, int64_t tree_size) {
  if (tree_size <= 0)
    return absl::InvalidArgumentError("tree_size must be > 0");
  if (leaf_index < 0)
    return absl::InvalidArgumentError("leaf_index is negative");
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError("leaf_index must be below tree_size");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<trillian::Tree> LogManager::TreeFor(int64_t tree_id,
                                                   Access access) {
  absl::StatusOr<trillian::Tree> tree = trees_->GetTree(tree_id);
  if (!tree.ok()) return tree.status();
  // As in Trillian: type first, then state, then deletion.
  const trillian::TreeType type = tree->tree_type();
  const bool is_log = type == trillian::LOG || type == trillian::PREORDERED_LOG;
  if (!is_log || (access == Access::kQueue && type != trillian::LOG) ||
      (access == Access::kSequence && type != trillian::PREORDERED_LOG)) {
    return absl::InvalidArgumentError(
        absl::StrCat("operation not allowed for ",
                     trillian::TreeType_Name(type), "-type trees"));
  }
  const trillian::TreeState state = tree->tree_state();
  const bool writable =
      state == trillian::ACTIVE ||
      (access == Access::kSequence && state == trillian::DRAINING);
  if ((access == Access::kQueue || access == Access::kSequence) && !writable) {
    return absl::PermissionDeniedError(
        absl::StrCat("operation not allowed when tree is ",
                     trillian::TreeState_Name(state)));
  }
  if (tree->deleted()) {
    return absl::NotFoundError(absl::StrCat("tree ", tree_id, " not found"));
  }
  return tree;
}

absl::StatusOr<LogHead> LogManager::ReadableHead(int64_t tree_id) {
  absl::StatusOr<trillian::Tree> tree = TreeFor(tree_id, Access::kRead);
  if (!tree.ok()) return tree.status();
  return LatestHead(tree_id);
}

absl::StatusOr<LogHead> LogManager::LatestHead(int64_t tree_id) {
  absl::StatusOr<std::optional<trillian::SignedLogRoot>> latest =
      logs_->LatestRoot(tree_id);
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) {
    return absl::FailedPreconditionError("tree needs initialising");
  }
  absl::StatusOr<merkle::LogRootV1> root =
      merkle::ParseLogRoot((*latest)->log_root());
  if (!root.ok()) return absl::DataLossError(root.status().message());
  return LogHead{std::move(**latest), std::move(*root)};
}

absl::StatusOr<std::vector<trillian::LogLeaf>> LogManager::PrepareLeaves(
    const trillian::Tree& tree,
    const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& in,
    bool keep_index) {
  if (in.empty()) return absl::InvalidArgumentError("leaves are empty");
  if (static_cast<size_t>(in.size()) > options_.max_leaves_per_request) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many leaves: ", in.size(), " > ",
                     options_.max_leaves_per_request));
  }
  // Logs that serve C2SP entry bundles hold only leaves a bundle can carry.
  trellis::LogSettings settings;
  const bool bundled =
      tree.storage_settings().UnpackTo(&settings) && settings.entry_bundles();
  const auto queued_at = ToProto(absl::Now());
  std::vector<trillian::LogLeaf> leaves;
  leaves.reserve(in.size());
  for (const trillian::LogLeaf& submitted : in) {
    if (submitted.leaf_value().empty()) {
      return absl::InvalidArgumentError("leaf_value is empty");
    }
    if (bundled && submitted.leaf_value().size() > tlog::kMaxEntryBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "leaf_value is ", submitted.leaf_value().size(),
          " bytes; this log serves C2SP entry bundles, which hold at most ",
          tlog::kMaxEntryBytes));
    }
    if (submitted.leaf_index() < 0) {
      return absl::InvalidArgumentError("leaf_index is negative");
    }
    if (!submitted.leaf_identity_hash().empty() &&
        submitted.leaf_identity_hash().size() != merkle::kHashSize) {
      return absl::InvalidArgumentError(absl::StrCat(
          "leaf_identity_hash must be ", merkle::kHashSize, " bytes"));
    }
    trillian::LogLeaf leaf;
    leaf.set_leaf_value(submitted.leaf_value());
    leaf.set_extra_data(submitted.extra_data());
    leaf.set_merkle_leaf_hash(merkle::HashLeaf(submitted.leaf_value()));
    leaf.set_leaf_identity_hash(submitted.leaf_identity_hash().empty()
                                    ? leaf.merkle_leaf_hash()
                                    : submitted.leaf_identity_hash());
    if (keep_index) leaf.set_leaf_index(submitted.leaf_index());
    *leaf.mutable_queue_timestamp() = queued_at;
    leaves.push_back(std::move(leaf));
  }
  return leaves;
}

absl::StatusOr<trillian::SignedLogRoot> LogManager::Init(int64_t log_id) {
  absl::StatusOr<trillian::Tree> tree = TreeFor(log_id, Access::kInit);
  if (!tree.ok()) return tree.status();
  absl::StatusOr<std::shared_ptr<const crypto::Signer>> signer =
      signers_(log_id);
  if (!signer.ok()) return signer.status();
  merkle::LogRootV1 root;
  root.tree_size = 0;
  root.root_hash = merkle::EmptyRoot();
  root.timestamp_nanos = absl::ToUnixNanos(absl::Now());
  root.revision = 0;
  absl::StatusOr<trillian::SignedLogRoot> signed_root =
      SignLogRoot(log_id, root, **signer);
  if (!signed_root.ok()) return signed_root.status();
  if (absl::Status s = logs_->InitRoot(log_id, *signed_root); !s.ok()) {
    return s;
  }
  return signed_root;
}

absl::StatusOr<std::vector<storage::QueueOutcome>> LogManager::QueueLeaves(
    int64_t log_id,
    const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& leaves) {
  absl::StatusOr<std::vector<trillian::LogLeaf>> prepared =
      PrepareQueue(log_id, leaves);
  if (!prepared.ok()) return prepared.status();
  return logs_->QueueLeaves(log_id, std::move(*prepared));
}

absl::StatusOr<std::vector<trillian::LogLeaf>> LogManager::PrepareQueue(
    int64_t log_id,
    const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& leaves) {
  absl::StatusOr<trillian::Tree> tree = TreeFor(log_id, Access::kQueue);
  if (!tree.ok()) return tree.status();
  absl::StatusOr<std::vector<trillian::LogLeaf>> prepared =
      PrepareLeaves(*tree, leaves, /*keep_index=*/false);
  if (!prepared.ok()) return prepared.status();
  if (absl::StatusOr<LogHead> head = LatestHead(log_id); !head.ok()) {
    return head.status();
  }
  return prepared;
}

void LogManager::QueueLeavesThen(
    int64_t log_id,
    const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& leaves,
    QueueDone done) {
  if (!Coalesces(leaves.size())) {
    std::move(done)(QueueLeaves(log_id, leaves));
    return;
  }
  absl::StatusOr<std::vector<trillian::LogLeaf>> prepared =
      PrepareQueue(log_id, leaves);
  if (!prepared.ok()) {
    std::move(done)(prepared.status());
    return;
  }
  coalescer_->Queue(log_id, std::move(*prepared), std::move(done));
}

absl::StatusOr<std::vector<std::string>> LogManager::Append(
    int64_t log_id, const std::vector<std::string>& records) {
  google::protobuf::RepeatedPtrField<trillian::LogLeaf> leaves;
  for (const std::string& record : records) {
    leaves.Add()->set_leaf_value(record);
  }
  absl::StatusOr<std::vector<storage::QueueOutcome>> outcomes =
      QueueLeaves(log_id, leaves);
  if (!outcomes.ok()) return outcomes.status();
  std::vector<std::string> hashes;
  hashes.reserve(outcomes->size());
  for (const storage::QueueOutcome& outcome : *outcomes) {
    hashes.push_back(outcome.leaf.merkle_leaf_hash());
  }
  return hashes;
}

absl::StatusOr<std::vector<LogManager::SequencedOutcome>>
LogManager::AddSequencedLeaves(
    int64_t log_id,
    const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& leaves) {
  absl::StatusOr<trillian::Tree> tree = TreeFor(log_id, Access::kSequence);
  if (!tree.ok()) return tree.status();
  absl::StatusOr<std::vector<trillian::LogLeaf>> prepared =
      PrepareLeaves(*tree, leaves, /*keep_index=*/true);
  if (!prepared.ok()) return prepared.status();
  for (size_t i = 1; i < prepared->size(); ++i) {
    // Compared pairwise: leaf_index + i could overflow near INT64_MAX.
    if ((*prepared)[i].leaf_index() - 1 != (*prepared)[i - 1].leaf_index()) {
      return absl::FailedPreconditionError("leaf indices must be contiguous");
    }
  }
  if (absl::StatusOr<LogHead> head = LatestHead(log_id); !head.ok()) {
    return head.status();
  }
  std::vector<trillian::LogLeaf> held;
  std::vector<trillian::LogLeaf> submitted = *prepared;
  absl::StatusOr<std::vector<absl::Status>> results =
      logs_->AddSequencedLeaves(log_id, std::move(*prepared), &held);
  if (!results.ok()) return results.status();
  std::vector<SequencedOutcome> outcomes;
  outcomes.reserve(results->size());
  for (size_t i = 0; i < results->size(); ++i) {
    const bool stored = (*results)[i].ok();
    outcomes.push_back(
        {(*results)[i], std::move(stored ? submitted[i] : held[i])});
  }
  return outcomes;
}

absl::StatusOr<AtHead<std::vector<std::string>>> LogManager::LatestRoot(
    int64_t log_id, int64_t first_tree_size) {
  if (first_tree_size < 0) {
    return absl::InvalidArgumentError("first_tree_size is negative");
  }
  absl::StatusOr<LogHead> head = ReadableHead(log_id);
  if (!head.ok()) return head.status();
  AtHead<std::vector<std::string>> out{std::move(*head), std::nullopt};
  const uint64_t first = first_tree_size;
  if (first == 0) return out;
  if (first > out.head.root.tree_size) {
    return absl::InvalidArgumentError(absl::StrCat("first_tree_size ", first,
                                                   " is beyond the tree size ",
                                                   out.head.root.tree_size));
  }
  absl::StatusOr<std::vector<std::string>> proof =
      merkle::BuildConsistencyProof(first, out.head.root.tree_size,
                                    *logs_->NodeReader(log_id));
  if (!proof.ok()) return proof.status();
  out.value = std::move(*proof);
  return out;
}

absl::StatusOr<AtHead<InclusionProof>> LogManager::InclusionProofAt(
    int64_t log_id, int64_t leaf_index, int64_t tree_size) {
  if (absl::Status s = CheckLeafInTree(leaf_index, tree_size); !s.ok()) {
    return s;
  }
  absl::StatusOr<LogHead> head = ReadableHead(log_id);
  if (!head.ok()) return head.status();
  AtHead<InclusionProof> out{std::move(*head), std::nullopt};
  if (static_cast<uint64_t>(tree_size) > out.head.root.tree_size) {
    return out;  // Server skew: the root tells what we know.
  }
  absl::StatusOr<std::vector<std::string>> proof = merkle::BuildInclusionProof(
      leaf_index, tree_size, *logs_->NodeReader(log_id));
  if (!proof.ok()) return proof.status();
  out.value = InclusionProof{leaf_index, std::move(*proof)};
  return out;
}

absl::StatusOr<AtHead<std::vector<InclusionProof>>>
LogManager::InclusionProofsByHash(int64_t log_id, const std::string& leaf_hash,
                                  int64_t tree_size, size_t max_proofs) {
  if (tree_size <= 0)
    return absl::InvalidArgumentError("tree_size must be > 0");
  if (max_proofs == 0) {
    return absl::InvalidArgumentError("max_proofs must be > 0");
  }
  if (leaf_hash.size() != merkle::kHashSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf_hash must be ", merkle::kHashSize, " bytes"));
  }
  absl::StatusOr<LogHead> head = ReadableHead(log_id);
  if (!head.ok()) return head.status();
  AtHead<std::vector<InclusionProof>> out{std::move(*head), std::nullopt};
  const uint64_t size = tree_size;
  if (size > out.head.root.tree_size) return out;  // Server skew.
  absl::StatusOr<std::vector<uint64_t>> indices =
      logs_->IndicesByHash(log_id, leaf_hash);
  if (!indices.ok()) return indices.status();
  auto reader = logs_->NodeReader(log_id);
  std::vector<InclusionProof> proofs;
  for (uint64_t index : *indices) {
    if (index >= size) continue;
    if (proofs.size() == std::min(max_proofs, options_.max_leaves_per_read)) {
      break;
    }
    absl::StatusOr<std::vector<std::string>> proof =
        merkle::BuildInclusionProof(index, size, *reader);
    if (!proof.ok()) return proof.status();
    proofs.push_back({static_cast<int64_t>(index), std::move(*proof)});
  }
  if (proofs.empty()) {
    return absl::NotFoundError(
        absl::StrCat("no leaf with that hash in tree size ", size));
  }
  out.value = std::move(proofs);
  return out;
}

absl::StatusOr<AtHead<std::vector<std::string>>> LogManager::ConsistencyProof(
    int64_t log_id, int64_t first_tree_size, int64_t second_tree_size) {
  if (first_tree_size <= 0) {
    return absl::InvalidArgumentError("first_tree_size must be > 0");
  }
  if (second_tree_size <= 0) {
    return absl::InvalidArgumentError("second_tree_size must be > 0");
  }
  if (second_tree_size < first_tree_size) {
    return absl::InvalidArgumentError(
        "second_tree_size must not be below first_tree_size");
  }
  absl::StatusOr<LogHead> head = ReadableHead(log_id);
  if (!head.ok()) return head.status();
  AtHead<std::vector<std::string>> out{std::move(*head), std::nullopt};
  if (static_cast<uint64_t>(second_tree_size) > out.head.root.tree_size) {
    return out;  // Server skew.
  }
  absl::StatusOr<std::vector<std::string>> proof =
      merkle::BuildConsistencyProof(first_tree_size, second_tree_size,
                                    *logs_->NodeReader(log_id));
  if (!proof.ok()) return proof.status();
  out.value = std::move(*proof);
  return out;
}

absl::StatusOr<AtHead<LogManager::Entry>> LogManager::EntryAndProof(
    int64_t log_id, int64_t leaf_index, int64_t tree_size) {
  if (absl::Status s = CheckLeafInTree(leaf_index, tree_size); !s.ok()) {
    return s;
  }
  absl::StatusOr<LogHead> head = ReadableHead(log_id);
  if (!head.ok()) return head.status();
  AtHead<Entry> out{std::move(*head), std::nullopt};
  const uint64_t index = leaf_index;
  if (index >= out.head.root.tree_size) return out;  // Server skew.
  // A size beyond the latest root is answered for the latest root.
  const uint64_t size = std::min<uint64_t>(tree_size, out.head.root.tree_size);
  absl::StatusOr<std::vector<std::string>> proof =
      merkle::BuildInclusionProof(index, size, *logs_->NodeReader(log_id));
  if (!proof.ok()) return proof.status();
  const int64_t wanted[] = {leaf_index};
  absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
      logs_->GetLeavesByIndex(log_id, wanted);
  if (!leaves.ok()) return leaves.status();
  out.value =
      Entry{std::move(leaves->front()), {leaf_index, std::move(*proof)}};
  return out;
}

absl::StatusOr<AtHead<std::vector<trillian::LogLeaf>>>
LogManager::LeavesByIndex(
    int64_t log_id, const google::protobuf::RepeatedField<int64_t>& indices) {
  if (indices.empty()) return absl::InvalidArgumentError("no leaf_index given");
  if (static_cast<size_t>(indices.size()) > options_.max_leaves_per_read) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at most ", options_.max_leaves_per_read, " indices per request"));
  }
  for (int64_t index : indices) {
    if (index < 0) return absl::InvalidArgumentError("leaf_index is negative");
  }
  absl::StatusOr<LogHead> head = ReadableHead(log_id);
  if (!head.ok()) return head.status();
  for (int64_t index : indices) {
    if (static_cast<uint64_t>(index) >= head->root.tree_size) {
      return absl::OutOfRangeError(absl::StrCat("invalid leaf index ", index,
                                                ", want < tree size ",
                                                head->root.tree_size));
    }
  }
  absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
      logs_->GetLeavesByIndex(log_id, indices);
  if (!leaves.ok()) return leaves.status();
  return AtHead<std::vector<trillian::LogLeaf>>{std::move(*head),
                                                std::move(*leaves)};
}

absl::StatusOr<AtHead<std::vector<trillian::LogLeaf>>>
LogManager::LeavesByRange(int64_t log_id, int64_t start_index, int64_t count) {
  if (start_index < 0) {
    return absl::InvalidArgumentError("start_index is negative");
  }
  if (count <= 0) return absl::InvalidArgumentError("count must be > 0");
  absl::StatusOr<LogHead> head = ReadableHead(log_id);
  if (!head.ok()) return head.status();
  const uint64_t bounded =
      std::min<uint64_t>(count, options_.max_leaves_per_read);
  absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
      logs_->GetLeavesByRange(log_id, start_index, bounded,
                              head->root.tree_size);
  if (!leaves.ok()) return leaves.status();
  return AtHead<std::vector<trillian::LogLeaf>>{std::move(*head),
                                                std::move(*leaves)};
}

absl::StatusOr<AtHead<std::vector<trillian::LogLeaf>>> LogManager::LeavesByHash(
    int64_t log_id,
    const google::protobuf::RepeatedPtrField<std::string>& leaf_hashes,
    bool order_by_sequence) {
  if (leaf_hashes.empty()) {
    return absl::InvalidArgumentError("no leaf_hash given");
  }
  if (static_cast<size_t>(leaf_hashes.size()) > options_.max_leaves_per_read) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at most ", options_.max_leaves_per_read, " hashes per request"));
  }
  for (const std::string& hash : leaf_hashes) {
    if (hash.size() != merkle::kHashSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("leaf_hash must be ", merkle::kHashSize, " bytes"));
    }
  }
  absl::StatusOr<LogHead> head = ReadableHead(log_id);
  if (!head.ok()) return head.status();
  std::vector<int64_t> wanted;
  for (const std::string& hash : leaf_hashes) {
    absl::StatusOr<std::vector<uint64_t>> indices =
        logs_->IndicesByHash(log_id, hash);
    if (!indices.ok()) return indices.status();
    for (uint64_t index : *indices) {
      if (index >= head->root.tree_size) continue;
      if (wanted.size() == options_.max_leaves_per_read) break;
      wanted.push_back(index);
    }
  }
  if (order_by_sequence) std::sort(wanted.begin(), wanted.end());
  AtHead<std::vector<trillian::LogLeaf>> out{std::move(*head), {}};
  if (!wanted.empty()) {
    absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
        logs_->GetLeavesByIndex(log_id, wanted);
    if (!leaves.ok()) return leaves.status();
    out.value = std::move(*leaves);
  }
  return out;
}

}  // namespace trellis::log
