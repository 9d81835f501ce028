#include "cmd/trellis/checkpoint_command.h"

#include <iostream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cmd/trellis/trust_store.h"
#include "httplib.h"
#include "merkle/hasher.h"
#include "merkle/verifier.h"
#include "nlohmann/json.hpp"
#include "tlog/checkpoint.h"
#include "tlog/policy.h"
#include "tlog/proof.h"
#include "trellis_settings.pb.h"

namespace trellis::cli {
namespace {

// The checkpoint, verified against the policy file; Fail(kInvalid) if it
// does not hold up.
tlog::VerifiedCheckpoint VerifyAgainstPolicy(const std::string& note,
                                             const std::string& policy_file) {
  absl::StatusOr<tlog::WitnessPolicy> policy =
      tlog::WitnessPolicy::Parse(ReadFileOrDie(policy_file));
  if (!policy.ok()) Fail(kUsage, std::string(policy.status().message()));
  absl::StatusOr<tlog::VerifiedCheckpoint> verified = policy->Verify(note);
  if (!verified.ok()) {
    // A checkpoint that does not hold up is evidence against the log.
    Fail(kInvalid, std::string(verified.status().message()));
  }
  return *std::move(verified);
}

// Another root for a size seen before is a split view, whatever the
// signatures say; a larger checkpoint is remembered.
void CheckAndRemember(const tlog::Checkpoint& checkpoint,
                      std::string state_dir) {
  if (state_dir.empty()) {
    absl::StatusOr<std::string> default_dir = DefaultStateDir();
    if (!default_dir.ok()) {
      Fail(kUsage,
           absl::StrCat(default_dir.status().message(), " (see --state_dir)"));
    }
    state_dir = *default_dir;
  }
  const CheckpointMemory memory(state_dir);
  absl::StatusOr<std::optional<RememberedRoot>> remembered =
      memory.Load(checkpoint.origin);
  if (!remembered.ok()) {
    Fail(kUsage, std::string(remembered.status().message()));
  }
  if (remembered->has_value() && (*remembered)->tree_size == checkpoint.size &&
      (*remembered)->root_hash != checkpoint.root_hash) {
    Fail(kInvalid,
         absl::StrCat("split view: ", checkpoint.origin, " showed root ",
                      absl::Base64Escape((*remembered)->root_hash),
                      " for size ", checkpoint.size, " before, and ",
                      absl::Base64Escape(checkpoint.root_hash), " now (",
                      memory.PathFor(checkpoint.origin), ")"));
  }
  if (!remembered->has_value() || (*remembered)->tree_size < checkpoint.size) {
    if (absl::Status s = memory.Save(
            checkpoint.origin,
            RememberedRoot{checkpoint.size, checkpoint.root_hash, 0});
        !s.ok()) {
      Fail(kUsage, absl::StrCat("cannot remember the checkpoint: ", s.message(),
                                " (see --state_dir)"));
    }
  }
}

nlohmann::json CheckpointJson(const tlog::VerifiedCheckpoint& verified) {
  nlohmann::json witnesses = nlohmann::json::array();
  for (const std::string& name : verified.witnesses) witnesses.push_back(name);
  return {{"origin", verified.checkpoint.origin},
          {"treeSize", verified.checkpoint.size},
          {"rootHash", absl::Base64Escape(verified.checkpoint.root_hash)},
          {"log", verified.log_key_name},
          {"witnesses", witnesses},
          {"verified", true}};
}

}  // namespace

int VerifyCheckpointCommand(const std::vector<char*>& args,
                            const std::string& state_dir) {
  if (args.size() != 4) {
    Fail(kUsage, "usage: trellis verify-checkpoint CHECKPOINT POLICY");
  }
  const tlog::VerifiedCheckpoint verified =
      VerifyAgainstPolicy(ReadFileOrDie(args[2]), args[3]);
  CheckAndRemember(verified.checkpoint, state_dir);
  std::cout << CheckpointJson(verified).dump(2) << "\n";
  return kOk;
}

int VerifyTlogProofCommand(const std::string& text,
                           const std::string& policy_file,
                           const std::string& leaf_file,
                           const std::string& state_dir) {
  if (policy_file.empty()) {
    Fail(kUsage, "a tlog-proof verifies against --policy=FILE (tlog-policy)");
  }
  absl::StatusOr<tlog::TlogProof> proof = tlog::ParseTlogProof(text);
  if (!proof.ok()) Fail(kUsage, std::string(proof.status().message()));
  if (leaf_file.empty() && !proof->extra.has_value()) {
    Fail(kUsage, "the proof carries no leaf: give it with --leaf=FILE");
  }
  // The extra data is not authenticated: a --leaf given is what is proven.
  const std::string leaf =
      leaf_file.empty() ? *proof->extra : ReadFileOrDie(leaf_file);
  const tlog::VerifiedCheckpoint verified =
      VerifyAgainstPolicy(proof->checkpoint_note, policy_file);
  if (absl::Status included = merkle::VerifyInclusion(
          proof->index, verified.checkpoint.size, merkle::HashLeaf(leaf),
          proof->hashes, verified.checkpoint.root_hash);
      !included.ok()) {
    std::cout << "INVALID: " << included.message() << "\n";
    return kInvalid;
  }
  CheckAndRemember(verified.checkpoint, state_dir);
  nlohmann::json out = CheckpointJson(verified);
  out["leafIndex"] = proof->index;
  out["leafValue"] = absl::Base64Escape(leaf);
  std::cout << out.dump(2) << "\n";
  return kOk;
}

int ProveTlogProof(Client& client, const trillian::Tree& tree, int64_t index,
                   const std::string& tlog_url) {
  if (index < 0) Fail(kUsage, "--format=tlog-proof needs --index");
  trellis::LogSettings settings;
  if (!tree.storage_settings().UnpackTo(&settings) ||
      settings.note_verifier_key().empty()) {
    Fail(kUsage, "this tree publishes no checkpoints");
  }
  httplib::Client http(tlog_url);
  http.set_connection_timeout(10, 0);
  http.set_read_timeout(30, 0);
  const std::string path =
      absl::StrCat("/logs/", tree.tree_id(), "/checkpoint");
  httplib::Result got = http.Get(path);
  if (!got) {
    Fail(kUnusable,
         absl::StrCat(tlog_url, path, ": ", httplib::to_string(got.error()),
                      " (see --tlog_url)"));
  }
  if (got->status != 200) {
    Fail(kUnusable, absl::StrCat(tlog_url, path, ": HTTP ", got->status));
  }
  // The log's own signature, under the key GetTree names.
  absl::StatusOr<tlog::WitnessPolicy> own = tlog::WitnessPolicy::Parse(
      absl::StrCat("log ", settings.note_verifier_key(), "\nquorum none\n"));
  if (!own.ok()) Fail(kInvalid, std::string(own.status().message()));
  absl::StatusOr<tlog::VerifiedCheckpoint> checkpoint = own->Verify(got->body);
  if (!checkpoint.ok()) {
    Fail(kInvalid, absl::StrCat("the served checkpoint: ",
                                checkpoint.status().message()));
  }
  const uint64_t size = checkpoint->checkpoint.size;
  if (static_cast<uint64_t>(index) >= size) {
    Fail(kUnusable, absl::StrCat("the latest checkpoint covers ", size,
                                 " leaves, not index ", index,
                                 ": try again after the next one"));
  }
  trillian::GetEntryAndProofRequest request;
  request.set_log_id(tree.tree_id());
  request.set_leaf_index(index);
  request.set_tree_size(size);
  trillian::GetEntryAndProofResponse response;
  Check(
      client.log().GetEntryAndProof(client.Context().get(), request, &response),
      "GetEntryAndProof");
  if (!response.has_leaf()) Fail(kInvalid, "leaf is beyond the tree");
  tlog::TlogProof proof;
  proof.extra = response.leaf().leaf_value();
  proof.index = index;
  proof.hashes.assign(response.proof().hashes().begin(),
                      response.proof().hashes().end());
  proof.checkpoint_note = got->body;
  if (absl::Status s = merkle::VerifyInclusion(
          index, size, merkle::HashLeaf(*proof.extra), proof.hashes,
          checkpoint->checkpoint.root_hash);
      !s.ok()) {
    Fail(kInvalid, "the server's inclusion proof does not verify: " +
                       std::string(s.message()));
  }
  absl::StatusOr<std::string> text = tlog::FormatTlogProof(proof);
  if (!text.ok()) Fail(kInvalid, std::string(text.status().message()));
  std::cout << *text;
  return kOk;
}

}  // namespace trellis::cli
