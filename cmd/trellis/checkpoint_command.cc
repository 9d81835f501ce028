#include "cmd/trellis/checkpoint_command.h"

#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cmd/trellis/trust_store.h"
#include "httplib.h"
#include "merkle/hasher.h"
#include "merkle/proof_builder.h"
#include "merkle/verifier.h"
#include "nlohmann/json.hpp"
#include "tlog/checkpoint.h"
#include "tlog/policy.h"
#include "tlog/proof.h"
#include "tlog/tile_hash_reader.h"
#include "tlog/tiles.h"
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

// Fetches hash tiles under a tlog-tiles prefix URL ("http://host/prefix/").
tlog::TileFetcher HttpTiles(const std::string& tiles_url) {
  const size_t scheme = tiles_url.find("://");
  const size_t path = scheme == std::string::npos
                          ? std::string::npos
                          : tiles_url.find('/', scheme + 3);
  if (path == std::string::npos) {
    Fail(kUsage,
         "--tiles_url must be a URL with a path, such as "
         "http://127.0.0.1:8091/logs/ID/");
  }
  std::string prefix = tiles_url.substr(path);
  if (!absl::EndsWith(prefix, "/")) prefix += "/";
  auto http = std::make_shared<httplib::Client>(tiles_url.substr(0, path));
  http->set_connection_timeout(10, 0);
  http->set_read_timeout(30, 0);
  // Tiles at the larger size, which may be older than the log: trellisd
  // serves every width by truncation (a log that keeps only its latest
  // partial tiles gives no verdict for older sizes).
  return [http, prefix](const tlog::TileId& id) -> absl::StatusOr<std::string> {
    absl::StatusOr<std::string> tile = tlog::TilePath(id);
    if (!tile.ok()) return tile.status();
    httplib::Result got = http->Get(prefix + *tile);
    if (!got) {
      return absl::UnavailableError(
          absl::StrCat(prefix, *tile, ": ", httplib::to_string(got.error())));
    }
    if (got->status != 200) {
      return absl::UnavailableError(
          absl::StrCat(prefix, *tile, ": HTTP ", got->status));
    }
    return got->body;
  };
}

// Proves the checkpoint and the remembered root (of another size)
// consistent from the log's tiles at the larger size. The tiles must first
// hash to the larger size's signed root, else they prove nothing either
// way (a wrong URL, a broken mirror): Fail(kUnusable), as when they cannot
// be read. Tiles that do, and yet give no proof that the smaller tree is
// its prefix, show two trees signed by the log: Fail(kInvalid).
void ProveConsistentFromTiles(const tlog::Checkpoint& checkpoint,
                              const RememberedRoot& remembered,
                              const std::string& tiles_url) {
  const bool grew = checkpoint.size > remembered.tree_size;
  const uint64_t small = grew ? remembered.tree_size : checkpoint.size;
  const uint64_t large = grew ? checkpoint.size : remembered.tree_size;
  const std::string& small_root =
      grew ? remembered.root_hash : checkpoint.root_hash;
  const std::string& large_root =
      grew ? checkpoint.root_hash : remembered.root_hash;
  if (small == 0) return;  // The empty tree is a prefix of every tree.
  tlog::TileHashReader tiles(large, HttpTiles(tiles_url));
  const std::string cannot_check =
      absl::StrCat("cannot check ", checkpoint.origin, " size ",
                   checkpoint.size, " against the remembered size ",
                   remembered.tree_size, " from the tiles at ", tiles_url);
  absl::StatusOr<std::string> tiles_root = merkle::BuildRootHash(large, tiles);
  if (!tiles_root.ok()) {
    Fail(kUnusable,
         absl::StrCat(cannot_check, ": ", tiles_root.status().message()));
  }
  if (*tiles_root != large_root) {
    Fail(kUnusable, absl::StrCat(cannot_check,
                                 ": they hash to another root "
                                 "than the signed one of size ",
                                 large));
  }
  absl::StatusOr<std::vector<std::string>> proof =
      merkle::BuildConsistencyProof(small, large, tiles);
  if (!proof.ok()) {
    Fail(kUnusable, absl::StrCat(cannot_check, ": ", proof.status().message()));
  }
  if (absl::Status s = merkle::VerifyConsistency(small, large, small_root,
                                                 large_root, *proof);
      !s.ok()) {
    Fail(kInvalid,
         absl::StrCat("split view: ", checkpoint.origin,
                      "'s tiles do not "
                      "prove its tree of size ",
                      small, " (root ", absl::Base64Escape(small_root),
                      ") a prefix of its tree of size ", large, " (root ",
                      absl::Base64Escape(large_root), "): ", s.message()));
  }
}

// Another root for a size seen before is a split view, whatever the
// signatures say; with `tiles_url`, so is a root of another size that the
// log's tiles do not prove consistent with the remembered one. A larger
// checkpoint is remembered. Returns the remembered size proven consistent,
// if one was.
std::optional<uint64_t> CheckAndRemember(const tlog::Checkpoint& checkpoint,
                                         std::string state_dir,
                                         const std::string& tiles_url) {
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
  std::optional<uint64_t> consistent_with;
  if (remembered->has_value() && (*remembered)->tree_size != checkpoint.size &&
      !tiles_url.empty()) {
    ProveConsistentFromTiles(checkpoint, **remembered, tiles_url);
    consistent_with = (*remembered)->tree_size;
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
  return consistent_with;
}

nlohmann::json CheckpointJson(const tlog::VerifiedCheckpoint& verified,
                              std::optional<uint64_t> consistent_with) {
  nlohmann::json witnesses = nlohmann::json::array();
  for (const std::string& name : verified.witnesses) witnesses.push_back(name);
  nlohmann::json out = {
      {"origin", verified.checkpoint.origin},
      {"treeSize", verified.checkpoint.size},
      {"rootHash", absl::Base64Escape(verified.checkpoint.root_hash)},
      {"log", verified.log_key_name},
      {"witnesses", witnesses},
      {"verified", true}};
  if (consistent_with.has_value()) {
    out["consistentWithTreeSize"] = *consistent_with;
  }
  return out;
}

}  // namespace

int VerifyCheckpointCommand(const std::vector<char*>& args,
                            const std::string& state_dir,
                            const std::string& tiles_url) {
  if (args.size() != 4) {
    Fail(kUsage, "usage: trellis verify-checkpoint CHECKPOINT POLICY");
  }
  const tlog::VerifiedCheckpoint verified =
      VerifyAgainstPolicy(ReadFileOrDie(args[2]), args[3]);
  const std::optional<uint64_t> consistent_with =
      CheckAndRemember(verified.checkpoint, state_dir, tiles_url);
  std::cout << CheckpointJson(verified, consistent_with).dump(2) << "\n";
  return kOk;
}

int VerifyTlogProofCommand(const std::string& text,
                           const std::string& policy_file,
                           const std::string& leaf_file,
                           const std::string& state_dir,
                           const std::string& tiles_url) {
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
  const std::optional<uint64_t> consistent_with =
      CheckAndRemember(verified.checkpoint, state_dir, tiles_url);
  nlohmann::json out = CheckpointJson(verified, consistent_with);
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
