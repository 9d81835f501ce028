#include "log/checkpoint_publisher.h"

#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "logging/log.h"
#include "merkle/log_root.h"
#include "tlog/checkpoint.h"
#include "tlog/policy.h"
#include "trellis_settings.pb.h"

namespace trellis::log {

CheckpointPublisher::CheckpointPublisher(storage::TreeStorage* trees,
                                         storage::LogStorage* logs,
                                         NoteSignerProvider signers,
                                         absl::Duration interval,
                                         WitnessCollector* witnesses)
    : trees_(trees),
      logs_(logs),
      signers_(std::move(signers)),
      interval_(interval),
      witnesses_(witnesses) {}

CheckpointPublisher::~CheckpointPublisher() { Stop(); }

void CheckpointPublisher::Start() {
  thread_ = std::thread([this] {
    do {
      RunPass();
    } while (!stop_.WaitForNotificationWithTimeout(interval_));
  });
}

void CheckpointPublisher::Stop() {
  if (!stop_.HasBeenNotified()) stop_.Notify();
  if (thread_.joinable()) thread_.join();
}

void CheckpointPublisher::RunPass() {
  absl::StatusOr<std::vector<trillian::Tree>> trees =
      trees_->ListTrees(/*include_deleted=*/false);
  if (!trees.ok()) {
    logging::Error("checkpoints", "cannot list trees",
                   {{"error", trees.status().ToString()}});
    return;
  }
  for (const trillian::Tree& tree : *trees) {
    if (tree.tree_type() != trillian::LOG &&
        tree.tree_type() != trillian::PREORDERED_LOG) {
      continue;
    }
    absl::StatusOr<storage::StoredCheckpoint> published =
        Publish(tree.tree_id());
    // Logs not yet initialised have nothing to publish.
    if (!published.ok() && !absl::IsNotFound(published.status())) {
      logging::Error("checkpoints", "no checkpoint published",
                     {{"tree", absl::StrCat(tree.tree_id())},
                      {"error", published.status().ToString()}});
    }
  }
}

absl::StatusOr<storage::StoredCheckpoint> CheckpointPublisher::Publish(
    int64_t tree_id) {
  absl::MutexLock lock(&publish_mu_);
  absl::StatusOr<std::optional<trillian::SignedLogRoot>> signed_root =
      logs_->LatestRoot(tree_id);
  if (!signed_root.ok()) return signed_root.status();
  if (!signed_root->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("log ", tree_id, " is not initialised"));
  }
  absl::StatusOr<merkle::LogRootV1> root =
      merkle::ParseLogRoot((*signed_root)->log_root());
  if (!root.ok()) return absl::DataLossError(root.status().message());

  // The published one, from memory after the first read.
  absl::StatusOr<std::shared_ptr<const storage::StoredCheckpoint>> latest =
      Latest(tree_id);
  if (!latest.ok() && !absl::IsNotFound(latest.status())) {
    return latest.status();
  }
  if (latest.ok() && (*latest)->size >= root->tree_size) return **latest;

  absl::StatusOr<std::shared_ptr<const tlog::NoteSigner>> signer =
      signers_(tree_id);
  if (!signer.ok()) return signer.status();
  tlog::Checkpoint checkpoint;
  checkpoint.origin = (*signer)->verifier_key().name;
  checkpoint.size = root->tree_size;
  checkpoint.root_hash = root->root_hash;
  absl::StatusOr<std::string> text = tlog::FormatCheckpoint(checkpoint);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::string> signature = (*signer)->SignatureLine(*text);
  if (!signature.ok()) return signature.status();
  std::vector<std::string> lines = {*signature};
  if (absl::Status witnessed = Witness(tree_id, *text, root->tree_size, lines);
      !witnessed.ok()) {
    return witnessed;
  }
  storage::StoredCheckpoint published{root->tree_size,
                                      tlog::FormatNote(*text, lines)};
  if (absl::Status s = logs_->PutCheckpoint(tree_id, published); !s.ok()) {
    return s;
  }
  Remember(tree_id, published);
  return published;
}

absl::Status CheckpointPublisher::Witness(int64_t tree_id,
                                          const std::string& text,
                                          uint64_t size,
                                          std::vector<std::string>& lines) {
  absl::StatusOr<trillian::Tree> tree = trees_->GetTree(tree_id);
  if (!tree.ok()) return tree.status();
  trellis::LogSettings settings;
  if (!tree->storage_settings().UnpackTo(&settings) ||
      settings.witness_policy().empty()) {
    return absl::OkStatus();
  }
  // Validated when it was set.
  absl::StatusOr<tlog::WitnessPolicy> policy =
      tlog::WitnessPolicy::Parse(settings.witness_policy());
  if (!policy.ok()) return absl::DataLossError(policy.status().message());
  if (witnesses_ == nullptr) {
    return absl::FailedPreconditionError("witnessing is not configured");
  }
  Cosignatures cosigned = witnesses_->Collect(
      tree_id, *policy, tlog::FormatNote(text, lines), size);
  lines.insert(lines.end(), cosigned.lines.begin(), cosigned.lines.end());
  if (policy->QuorumMet(cosigned.witnesses)) return absl::OkStatus();
  const std::string why =
      absl::StrCat("witness quorum not met for ", size, " leaves (",
                   absl::StrJoin(cosigned.failures, "; "), ")");
  if (settings.witness_fail_open()) {
    logging::Warning("checkpoints",
                     "witness policy not met; published anyway (fail open)",
                     {{"tree", absl::StrCat(tree_id)}, {"why", why}});
    return absl::OkStatus();
  }
  return absl::UnavailableError(why);
}

absl::StatusOr<std::shared_ptr<const storage::StoredCheckpoint>>
CheckpointPublisher::Latest(int64_t tree_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = latest_.find(tree_id);
    if (it != latest_.end()) return it->second;
  }
  absl::StatusOr<std::optional<storage::StoredCheckpoint>> stored =
      logs_->LatestCheckpoint(tree_id);
  if (!stored.ok()) return stored.status();
  if (!stored->has_value()) {
    return absl::NotFoundError(
        absl::StrCat("log ", tree_id, " has no checkpoint yet"));
  }
  Remember(tree_id, **stored);
  return Latest(tree_id);
}

void CheckpointPublisher::Remember(
    int64_t tree_id, const storage::StoredCheckpoint& checkpoint) {
  absl::MutexLock lock(&mu_);
  auto& slot = latest_[tree_id];
  if (slot == nullptr || slot->size < checkpoint.size) {
    slot = std::make_shared<const storage::StoredCheckpoint>(checkpoint);
  }
}

}  // namespace trellis::log
