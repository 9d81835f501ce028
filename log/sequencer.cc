#include "log/sequencer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "util/proto_time.h"

namespace trellis::log {
namespace {

// Merge delay buckets (seconds): 10 ms to a minute.
const prometheus::Histogram::BucketBoundaries& MergeDelayBuckets() {
  static const auto* const kBuckets =
      new prometheus::Histogram::BucketBoundaries{
          0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
  return *kBuckets;
}

}  // namespace

Sequencer::Sequencer(storage::LogStorage* storage, SignerProvider signers,
                     size_t batch_size, prometheus::Registry* metrics)
    : storage_(storage),
      signers_(std::move(signers)),
      batch_size_(batch_size),
      metrics_(metrics),
      integrated_(prometheus::BuildCounter()
                      .Name("trellis_log_integrated_leaves_total")
                      .Help("Leaves the sequencer integrated into the tree.")
                      .Register(metrics_.get())),
      merge_delay_(prometheus::BuildHistogram()
                       .Name("trellis_log_merge_delay_seconds")
                       .Help("A leaf's integrate timestamp minus its queue "
                             "timestamp (LOG trees), as Trillian defines "
                             "merge delay.")
                       .Register(metrics_.get())) {}

void Sequencer::Record(const trillian::Tree& tree,
                       const std::vector<trillian::LogLeaf>& integrated,
                       absl::Time now) {
  const prometheus::Labels labels = {{"tree", absl::StrCat(tree.tree_id())}};
  if (integrated.empty()) return;
  integrated_.Add(labels).Increment(static_cast<double>(integrated.size()));
  if (tree.tree_type() == trillian::LOG) {
    // One histogram update per batch, not per leaf.
    const auto& bounds = MergeDelayBuckets();
    std::vector<double> buckets(bounds.size() + 1, 0);
    double sum = 0;
    for (const trillian::LogLeaf& leaf : integrated) {
      const double delay = std::max(
          0.0,
          absl::ToDoubleSeconds(
              now - absl::FromUnixSeconds(leaf.queue_timestamp().seconds()) -
              absl::Nanoseconds(leaf.queue_timestamp().nanos())));
      sum += delay;
      const size_t bucket =
          std::lower_bound(bounds.begin(), bounds.end(), delay) -
          bounds.begin();
      ++buckets[bucket];
    }
    merge_delay_.Add(labels, bounds).ObserveMultiple(buckets, sum);
  }
}

absl::StatusOr<merkle::CompactRange> Sequencer::RightEdge(
    int64_t tree_id, uint64_t size, const std::string& root_hash) {
  {
    absl::MutexLock lock(&mu_);
    auto it = edges_.find(tree_id);
    // The cached edge must still match the signed root (a few hashes).
    if (it != edges_.end() && it->second.size() == size &&
        it->second.Root() == root_hash) {
      return it->second;
    }
  }
  std::vector<std::string> hashes;
  if (size > 0) {
    absl::StatusOr<std::vector<std::string>> nodes =
        storage_->NodeReader(tree_id)->GetNodes(
            merkle::DecomposeRange(0, size));
    if (!nodes.ok()) return nodes.status();
    hashes = std::move(*nodes);
  }
  absl::StatusOr<merkle::CompactRange> edge =
      merkle::CompactRange::FromHashes(size, std::move(hashes));
  if (!edge.ok()) return edge.status();
  // The stored nodes must reproduce the signed root, or we would extend a
  // corrupted tree.
  if (edge->Root() != root_hash) {
    return absl::DataLossError(absl::StrCat(
        "tree ", tree_id, ": stored nodes do not match the signed root"));
  }
  return edge;
}

absl::StatusOr<size_t> Sequencer::IntegrateBatch(const trillian::Tree& tree,
                                                 absl::Time now) {
  const int64_t tree_id = tree.tree_id();
  absl::StatusOr<std::optional<trillian::SignedLogRoot>> latest =
      storage_->LatestRoot(tree_id);
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) return 0;
  absl::StatusOr<merkle::LogRootV1> current =
      merkle::ParseLogRoot((*latest)->log_root());
  if (!current.ok()) return absl::DataLossError(current.status().message());

  storage::IntegrationBatch batch;
  if (tree.tree_type() == trillian::PREORDERED_LOG) {
    absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
        storage_->PeekSequenced(tree_id, current->tree_size, batch_size_);
    if (!leaves.ok()) return leaves.status();
    batch.leaves = std::move(*leaves);
  } else {
    absl::StatusOr<std::vector<storage::QueuedEntry>> queued =
        storage_->PeekQueue(tree_id, batch_size_);
    if (!queued.ok()) return queued.status();
    for (storage::QueuedEntry& entry : *queued) {
      batch.consumed_queue_seqs.push_back(entry.queue_seq);
      batch.leaves.push_back(std::move(entry.leaf));
    }
  }

  const int64_t now_nanos = absl::ToUnixNanos(now);
  if (batch.leaves.empty()) {
    const absl::Duration max_age = FromProto(tree.max_root_duration());
    const bool stale =
        max_age > absl::ZeroDuration() &&
        now - absl::FromUnixNanos(current->timestamp_nanos) >= max_age;
    if (!stale) return 0;
  }

  absl::StatusOr<merkle::CompactRange> edge =
      RightEdge(tree_id, current->tree_size, current->root_hash);
  if (!edge.ok()) return edge.status();
  const auto integrated_at = ToProto(absl::FromUnixNanos(now_nanos));
  for (trillian::LogLeaf& leaf : batch.leaves) {
    leaf.set_leaf_index(static_cast<int64_t>(edge->size()));
    *leaf.mutable_integrate_timestamp() = integrated_at;
    edge->Append(leaf.merkle_leaf_hash(),
                 [&](const merkle::NodeID& id, const std::string& hash) {
                   batch.nodes.emplace_back(id, hash);
                 });
  }

  merkle::LogRootV1 next;
  next.tree_size = edge->size();
  next.root_hash = edge->Root();
  // Timestamps strictly increase, even if the clock steps back.
  next.timestamp_nanos =
      std::max<uint64_t>(now_nanos, current->timestamp_nanos + 1);
  next.revision = current->revision + 1;
  absl::StatusOr<std::shared_ptr<const crypto::Signer>> signer =
      signers_(tree_id);
  if (!signer.ok()) return signer.status();
  absl::StatusOr<trillian::SignedLogRoot> signed_root =
      SignLogRoot(tree_id, next, **signer);
  if (!signed_root.ok()) return signed_root.status();
  batch.root = std::move(*signed_root);
  batch.tree_size = next.tree_size;
  batch.revision = next.revision;

  if (absl::Status s = storage_->Integrate(tree_id, batch); !s.ok()) {
    absl::MutexLock lock(&mu_);
    edges_.erase(tree_id);  // Reload from storage next time.
    return s;
  }
  {
    absl::MutexLock lock(&mu_);
    edges_.insert_or_assign(tree_id, std::move(*edge));
  }
  Record(tree, batch.leaves, now);
  return batch.leaves.size();
}

}  // namespace trellis::log
