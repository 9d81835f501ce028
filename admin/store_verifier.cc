#include "admin/store_verifier.h"

#include <algorithm>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/signer.h"
#include "map/map_root.h"
#include "merkle/compact_range.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "merkle/node_id.h"

namespace trellis::admin {
namespace {

// Leaves read per storage call while recomputing a log's root.
constexpr uint64_t kChunk = 1000;

absl::Status VerifyLog(const trillian::Tree& tree, storage::LogStorage& logs,
                       const VerifyProgress& progress, TreeVerification& out) {
  absl::StatusOr<std::optional<trillian::SignedLogRoot>> latest =
      logs.LatestRoot(tree.tree_id());
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) {
    return absl::FailedPreconditionError("no signed root (never initialised)");
  }
  if (absl::Status s = crypto::VerifySignature(tree.public_key().der(),
                                               (*latest)->log_root(),
                                               (*latest)->log_root_signature());
      !s.ok()) {
    return absl::DataLossError(
        absl::StrCat("the signed root does not verify: ", s.message()));
  }
  absl::StatusOr<merkle::LogRootV1> root =
      merkle::ParseLogRoot((*latest)->log_root());
  if (!root.ok()) return absl::DataLossError(root.status().message());
  out.size = root->tree_size;
  out.root_hash = root->root_hash;
  merkle::CompactRange range;
  for (uint64_t start = 0; start < root->tree_size; start += kChunk) {
    absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
        logs.GetLeavesByRange(tree.tree_id(), start, kChunk, root->tree_size);
    if (!leaves.ok()) {
      return absl::DataLossError(
          absl::StrCat("leaves from ", start, ": ", leaves.status().message()));
    }
    const uint64_t want = std::min(kChunk, root->tree_size - start);
    if (leaves->size() != want) {
      return absl::DataLossError(absl::StrCat("leaves from ", start, ": ",
                                              leaves->size(), " of ", want));
    }
    for (const trillian::LogLeaf& leaf : *leaves) {
      const uint64_t index = range.size();
      if (leaf.leaf_index() != static_cast<int64_t>(index)) {
        return absl::DataLossError(
            absl::StrCat("leaf ", index, " is stored as ", leaf.leaf_index()));
      }
      std::string hash = merkle::HashLeaf(leaf.leaf_value());
      if (hash != leaf.merkle_leaf_hash()) {
        return absl::DataLossError(absl::StrCat(
            "leaf ", index, ": its value does not hash to its Merkle hash"));
      }
      range.Append(std::move(hash), nullptr);
    }
    if (progress) progress(tree.tree_id(), range.size());
  }
  out.recomputed = true;
  if (range.Root() != root->root_hash) {
    return absl::DataLossError(absl::StrCat(
        "the leaves hash to ", absl::BytesToHexString(range.Root()),
        ", not the signed root ", absl::BytesToHexString(root->root_hash)));
  }
  // Proofs and the sequencer read the stored nodes, not the leaves: the
  // tree's right edge as stored must be the one the leaves give.
  if (root->tree_size > 0) {
    absl::StatusOr<std::vector<std::string>> edge =
        logs.NodeReader(tree.tree_id())
            ->GetNodes(merkle::DecomposeRange(0, root->tree_size));
    if (!edge.ok()) {
      return absl::DataLossError(
          absl::StrCat("stored Merkle nodes: ", edge.status().message()));
    }
    if (*edge != range.hashes()) {
      return absl::DataLossError(
          "the stored Merkle nodes do not match the leaves");
    }
  }
  return absl::OkStatus();
}

absl::Status VerifyMap(const trillian::Tree& tree, storage::MapStorage& maps,
                       TreeVerification& out) {
  absl::StatusOr<std::optional<storage::MapRevision>> latest =
      maps.LatestRevision(tree.tree_id());
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) {
    return absl::FailedPreconditionError("no signed root (never initialised)");
  }
  const trillian::SignedMapRoot& signed_root = (*latest)->root;
  if (absl::Status s = crypto::VerifySignature(tree.public_key().der(),
                                               signed_root.map_root(),
                                               signed_root.signature());
      !s.ok()) {
    return absl::DataLossError(
        absl::StrCat("the signed root does not verify: ", s.message()));
  }
  absl::StatusOr<map::MapRootV1> root =
      map::ParseMapRoot(signed_root.map_root());
  if (!root.ok()) return absl::DataLossError(root.status().message());
  out.size = root->revision;
  out.root_hash = root->root_hash;
  const std::string& stored = (*latest)->root_node.hash;
  if (!stored.empty() && stored != root->root_hash) {
    return absl::DataLossError("the stored root node is not the signed root");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<TreeVerification>> VerifyStoredTrees(
    storage::TreeStorage& trees, storage::LogStorage& logs,
    storage::MapStorage& maps, const VerifyProgress& progress) {
  absl::StatusOr<std::vector<trillian::Tree>> listed =
      trees.ListTrees(/*include_deleted=*/false);
  if (!listed.ok()) return listed.status();
  std::sort(listed->begin(), listed->end(),
            [](const trillian::Tree& a, const trillian::Tree& b) {
              return a.tree_id() < b.tree_id();
            });
  std::vector<TreeVerification> results;
  for (const trillian::Tree& tree : *listed) {
    TreeVerification& out = results.emplace_back();
    out.tree_id = tree.tree_id();
    out.type = tree.tree_type();
    out.status = tree.tree_type() == trillian::MAP
                     ? VerifyMap(tree, maps, out)
                     : VerifyLog(tree, logs, progress, out);
  }
  return results;
}

}  // namespace trellis::admin
