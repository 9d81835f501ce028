#include "map/map_manager.h"

#include <algorithm>
#include <cstdio>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "logging/log.h"
#include "map/map_root.h"
#include "merkle/hasher.h"
#include "merkle/smt/sparse_tree.h"
#include "trellis_settings.pb.h"
#include "util/proto_time.h"

namespace trellis::map {

MapManager::MapManager(storage::TreeStorage* trees, storage::MapStorage* maps,
                       log::RecordSink* history, log::SignerProvider signers,
                       MapManagerOptions options)
    : trees_(trees),
      maps_(maps),
      history_(history),
      signers_(std::move(signers)),
      options_(options) {
  for (trillian::HashStrategy s :
       {trillian::CONIKS_SHA512_256, trillian::CONIKS_SHA256,
        trillian::TEST_MAP_HASHER}) {
    hashers_[s] = std::move(*NewMapHasher(s));
  }
}

absl::StatusOr<MapManager::MapContext> MapManager::MapFor(int64_t map_id,
                                                          Access access) {
  absl::StatusOr<trillian::Tree> tree = trees_->GetTree(map_id);
  if (!tree.ok()) return tree.status();
  if (tree->tree_type() != trillian::MAP) {
    return absl::InvalidArgumentError(absl::StrCat(
        "operation not allowed for ",
        trillian::TreeType_Name(tree->tree_type()), "-type trees"));
  }
  if (access == Access::kWrite && tree->tree_state() != trillian::ACTIVE) {
    return absl::PermissionDeniedError(
        absl::StrCat("operation not allowed when tree is ",
                     trillian::TreeState_Name(tree->tree_state())));
  }
  if (tree->deleted()) {
    return absl::NotFoundError(absl::StrCat("tree ", map_id, " not found"));
  }
  auto hasher = hashers_.find(tree->hash_strategy());
  if (hasher == hashers_.end()) {
    return absl::FailedPreconditionError("map has no usable hash strategy");
  }
  return MapContext{std::move(*tree), hasher->second.get()};
}

absl::Mutex* MapManager::WriteLock(int64_t map_id) {
  absl::MutexLock lock(&locks_mu_);
  std::unique_ptr<absl::Mutex>& mu = write_locks_[map_id];
  if (!mu) mu = std::make_unique<absl::Mutex>();
  return mu.get();
}

absl::StatusOr<trillian::SignedMapRoot> MapManager::Sign(
    int64_t map_id, std::string root_hash, int64_t revision,
    const std::string& metadata, uint64_t previous_timestamp) {
  absl::StatusOr<std::shared_ptr<const crypto::Signer>> signer =
      signers_(map_id);
  if (!signer.ok()) return signer.status();
  MapRootV1 root;
  root.root_hash = std::move(root_hash);
  root.timestamp_nanos = std::max<uint64_t>(absl::ToUnixNanos(absl::Now()),
                                            previous_timestamp + 1);
  root.revision = static_cast<uint64_t>(revision);
  root.metadata = metadata;
  return SignMapRoot(root, **signer);
}

absl::StatusOr<trillian::SignedMapRoot> MapManager::Init(int64_t map_id) {
  absl::StatusOr<MapContext> map = MapFor(map_id, Access::kRead);
  if (!map.ok()) return map.status();
  absl::MutexLock lock(WriteLock(map_id));
  absl::StatusOr<std::optional<storage::MapRevision>> latest =
      maps_->LatestRevision(map_id);
  if (!latest.ok()) return latest.status();
  if (latest->has_value()) {
    return absl::AlreadyExistsError("map is already initialised");
  }
  storage::MapRevisionWrite write;
  absl::StatusOr<trillian::SignedMapRoot> root = Sign(
      map_id,
      merkle::smt::RootHash(*map->hasher, map_id, merkle::smt::NodeEntry{}), 0,
      "", 0);
  if (!root.ok()) return root.status();
  write.revision.revision = 0;
  write.revision.root = *root;
  write.outbox = HistoryEntry(map->tree, *root, 0);
  if (absl::Status s = maps_->WriteRevision(map_id, write); !s.ok()) return s;
  ReportDrain(map_id, DrainHistoryLocked(map_id));
  return root;
}

absl::StatusOr<trillian::SignedMapRoot> MapManager::Write(
    int64_t map_id,
    const google::protobuf::RepeatedPtrField<trillian::MapLeaf>& leaves,
    const std::string& metadata, int64_t revision) {
  if (static_cast<size_t>(leaves.size()) > options_.max_leaves_per_write) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many leaves: ", leaves.size(), " > ",
                     options_.max_leaves_per_write));
  }
  if (metadata.size() > merkle::kMaxRootMetadataBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "metadata longer than ", merkle::kMaxRootMetadataBytes, " bytes"));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < leaves.size(); ++i) {
    const std::string& index = leaves[i].index();
    if (index.size() != merkle::smt::kIndexBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "index at position ", i, " has wrong length: got=", index.size(),
          ", want=", merkle::smt::kIndexBytes));
    }
    if (!seen.insert(index).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate index detected at position ", i));
    }
  }
  absl::StatusOr<MapContext> map = MapFor(map_id, Access::kWrite);
  if (!map.ok()) return map.status();

  absl::MutexLock lock(WriteLock(map_id));
  absl::StatusOr<std::optional<storage::MapRevision>> latest =
      maps_->LatestRevision(map_id);
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) {
    return absl::FailedPreconditionError("map needs initialising");
  }
  const int64_t next = (*latest)->revision + 1;
  if (revision != 0 && revision != next) {
    return absl::FailedPreconditionError(absl::StrCat(
        "can't write revision ", revision, ", the next is ", next));
  }

  storage::MapRevisionWrite write;
  std::vector<merkle::smt::LeafHash> hashes;
  hashes.reserve(leaves.size());
  for (const trillian::MapLeaf& in : leaves) {
    trillian::MapLeaf leaf;
    leaf.set_index(in.index());
    leaf.set_leaf_value(in.leaf_value());
    leaf.set_extra_data(in.extra_data());
    leaf.set_leaf_hash(
        map->hasher->HashLeaf(map_id, in.index(), in.leaf_value()));
    hashes.push_back({leaf.index(), leaf.leaf_hash()});
    write.leaves.push_back(std::move(leaf));
  }
  std::sort(hashes.begin(), hashes.end(),
            [](const merkle::smt::LeafHash& a, const merkle::smt::LeafHash& b) {
              return a.index < b.index;
            });
  const int64_t base = (*latest)->revision;
  const merkle::smt::TileReaderFactory readers = [this, map_id, base] {
    return maps_->TilesAt(map_id, base);
  };
  absl::StatusOr<merkle::smt::TreeUpdate> update =
      merkle::smt::ApplyLeaves(*map->hasher, map_id, (*latest)->root_node,
                               hashes, readers, options_.update_threads);
  if (!update.ok()) return update.status();

  absl::StatusOr<MapRootV1> previous = ParseMapRoot((*latest)->root.map_root());
  if (!previous.ok()) return absl::DataLossError(previous.status().message());
  absl::StatusOr<trillian::SignedMapRoot> root =
      Sign(map_id, merkle::smt::RootHash(*map->hasher, map_id, update->root),
           next, metadata, previous->timestamp_nanos);
  if (!root.ok()) return root.status();
  write.revision.revision = next;
  write.revision.root = *root;
  write.revision.root_node = std::move(update->root);
  write.tiles = std::move(update->tiles);
  write.outbox = HistoryEntry(map->tree, *root, next);
  if (absl::Status s = maps_->WriteRevision(map_id, write); !s.ok()) return s;
  ReportDrain(map_id, DrainHistoryLocked(map_id));
  return root;
}

absl::StatusOr<storage::MapRevision> MapManager::RevisionFor(int64_t map_id,
                                                             int64_t revision) {
  absl::StatusOr<std::optional<storage::MapRevision>> latest =
      maps_->LatestRevision(map_id);
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) {
    return absl::FailedPreconditionError("map needs initialising");
  }
  if (revision < 0) return **latest;
  if (revision > (*latest)->revision) {
    return absl::NotFoundError(absl::StrCat("map revision ", revision,
                                            " does not exist (latest is ",
                                            (*latest)->revision, ")"));
  }
  absl::StatusOr<std::optional<storage::MapRevision>> stored =
      maps_->Revision(map_id, revision);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return absl::DataLossError(
        absl::StrCat("map revision ", revision, " is missing"));
  }
  return **stored;
}

absl::StatusOr<MapManager::Leaves> MapManager::GetLeaves(
    int64_t map_id, int64_t revision,
    const google::protobuf::RepeatedPtrField<std::string>& indices,
    bool with_proofs) {
  if (static_cast<size_t>(indices.size()) > options_.max_indices_per_read) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at most ", options_.max_indices_per_read, " indices per request"));
  }
  absl::flat_hash_set<absl::string_view> seen;
  for (int i = 0; i < indices.size(); ++i) {
    if (indices[i].size() != merkle::smt::kIndexBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "index at position ", i, " has wrong length: got=", indices[i].size(),
          ", want=", merkle::smt::kIndexBytes));
    }
    if (!seen.insert(indices[i]).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("duplicate index detected at position ", i));
    }
  }
  absl::StatusOr<MapContext> map = MapFor(map_id, Access::kRead);
  if (!map.ok()) return map.status();
  absl::StatusOr<storage::MapRevision> at = RevisionFor(map_id, revision);
  if (!at.ok()) return at.status();

  absl::StatusOr<std::vector<std::optional<trillian::MapLeaf>>> stored =
      maps_->GetLeaves(
          map_id, at->revision,
          std::vector<std::string>(indices.begin(), indices.end()));
  if (!stored.ok()) return stored.status();
  Leaves out;
  out.root = at->root;
  std::unique_ptr<merkle::smt::TileReader> tiles =
      maps_->TilesAt(map_id, at->revision);
  for (int i = 0; i < indices.size(); ++i) {
    trillian::MapLeafInclusion inclusion;
    if ((*stored)[i].has_value()) {
      *inclusion.mutable_leaf() = std::move(*(*stored)[i]);
    } else {
      inclusion.mutable_leaf()->set_index(indices[i]);
    }
    if (with_proofs) {
      absl::StatusOr<merkle::smt::MapProof> proof = merkle::smt::BuildProof(
          *map->hasher, map_id, at->root_node, indices[i], *tiles);
      if (!proof.ok()) return proof.status();
      if (proof->leaf_hash != inclusion.leaf().leaf_hash()) {
        return absl::DataLossError("map leaf and tree disagree");
      }
      for (std::string& sibling : proof->siblings) {
        inclusion.add_inclusion(std::move(sibling));
      }
    }
    out.inclusions.push_back(std::move(inclusion));
  }
  return out;
}

absl::StatusOr<trillian::SignedMapRoot> MapManager::Root(int64_t map_id,
                                                         int64_t revision) {
  absl::StatusOr<MapContext> map = MapFor(map_id, Access::kRead);
  if (!map.ok()) return map.status();
  absl::StatusOr<storage::MapRevision> at = RevisionFor(map_id, revision);
  if (!at.ok()) return at.status();
  return at->root;
}

absl::StatusOr<trillian::MapLeaf> MapManager::LastInRange(
    int64_t map_id, int64_t revision, const std::string& prefix,
    int prefix_bits) {
  if (prefix_bits < 0 || prefix_bits > merkle::smt::kIndexBits ||
      static_cast<int>(prefix.size()) * 8 < prefix_bits ||
      prefix.size() > static_cast<size_t>(merkle::smt::kIndexBytes)) {
    return absl::InvalidArgumentError(
        "prefix_bits must be within 0..256 and covered by prefix");
  }
  absl::StatusOr<MapContext> map = MapFor(map_id, Access::kRead);
  if (!map.ok()) return map.status();
  absl::StatusOr<storage::MapRevision> at = RevisionFor(map_id, revision);
  if (!at.ok()) return at.status();
  const std::string low = merkle::smt::MaskIndex(prefix, prefix_bits);
  std::string high = low;
  for (int bit = prefix_bits; bit < merkle::smt::kIndexBits; ++bit) {
    high[bit / 8] |= static_cast<char>(0x80 >> (bit % 8));
  }
  absl::StatusOr<std::optional<trillian::MapLeaf>> leaf =
      maps_->LastInRange(map_id, at->revision, low, high);
  if (!leaf.ok()) return leaf.status();
  if (!leaf->has_value()) {
    return absl::NotFoundError("no leaf set in that range at that revision");
  }
  return std::move(**leaf);
}

std::optional<storage::OutboxEntry> MapManager::HistoryEntry(
    const trillian::Tree& tree, const trillian::SignedMapRoot& root,
    int64_t revision) {
  trellis::MapSettings settings;
  if (!tree.storage_settings().UnpackTo(&settings) ||
      settings.history_log_id() == 0) {
    return std::nullopt;
  }
  return storage::OutboxEntry{revision, settings.history_log_id(),
                              root.SerializeAsString()};
}

absl::Status MapManager::DrainHistory(int64_t map_id) {
  absl::MutexLock lock(WriteLock(map_id));
  return DrainHistoryLocked(map_id);
}

absl::Status MapManager::DrainHistoryLocked(int64_t map_id) {
  if (history_ == nullptr) return absl::OkStatus();
  absl::StatusOr<std::vector<storage::OutboxEntry>> entries =
      maps_->Outbox(map_id);
  if (!entries.ok()) return entries.status();
  for (const storage::OutboxEntry& entry : *entries) {
    absl::StatusOr<std::vector<std::string>> appended =
        history_->Append(entry.log_id, {entry.record});
    // In order: a later root never reaches the log before an earlier one.
    if (!appended.ok()) return appended.status();
    if (absl::Status s = maps_->DeleteOutbox(map_id, entry.revision); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status MapManager::DrainAllHistory() {
  absl::StatusOr<std::vector<trillian::Tree>> trees =
      trees_->ListTrees(/*include_deleted=*/true);
  if (!trees.ok()) return trees.status();
  absl::Status first_error;
  for (const trillian::Tree& tree : *trees) {
    if (tree.tree_type() != trillian::MAP) continue;
    absl::Status s = DrainHistory(tree.tree_id());
    ReportDrain(tree.tree_id(), s);
    first_error.Update(s);
  }
  return first_error;
}

void MapManager::ReportDrain(int64_t map_id, const absl::Status& status) {
  // The revision is committed either way; its entry waits in the outbox.
  if (!status.ok()) {
    logging::Warning(
        "map", "history log refused the root; kept for later",
        {{"tree", absl::StrCat(map_id)}, {"error", status.ToString()}});
  }
}

}  // namespace trellis::map
