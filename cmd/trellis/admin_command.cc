#include "cmd/trellis/admin_command.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "admin/backup.h"
#include "cmd/trellis/output.h"
#include "cmd/trellis/progress.h"
#include "nlohmann/json.hpp"
#include "trellis_operations.grpc.pb.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

constexpr char kUsageText[] =
    "usage: trellis admin backup DIR | admin restore BACKUP DIR | admin "
    "verify DATA_DIR";

std::string Absolute(const std::string& path) {
  if (!path.empty() && path[0] == '/') return path;
  char cwd[4096];
  if (getcwd(cwd, sizeof(cwd)) == nullptr) {
    Fail(kUnusable, "cannot read the current directory");
  }
  return absl::StrCat(cwd, "/", path);
}

// Checks `data_dir` and prints what it found; kInvalid if a tree does not
// match its signed root.
int Verify(const std::string& data_dir, json out) {
  // One progress line per log with leaves; its total is unknown until done.
  std::optional<Progress> progress;
  int64_t shown_tree = 0;
  absl::StatusOr<std::vector<admin::TreeVerification>> verified =
      admin::VerifyDataDirectory(data_dir, [&](int64_t tree_id, uint64_t n) {
        if (!progress.has_value() || tree_id != shown_tree) {
          progress.reset();
          progress.emplace(absl::StrCat("verify: tree ", tree_id), 0,
                           "leaves checked");
          shown_tree = tree_id;
        }
        progress->Set(n);
      });
  progress.reset();
  if (!verified.ok()) {
    Fail(kUnusable, absl::StrCat(data_dir, ": ", verified.status().ToString()));
  }
  bool all_match = true;
  json trees = json::array();
  for (const admin::TreeVerification& tree : *verified) {
    json entry = {{"treeId", absl::StrCat(tree.tree_id)},
                  {"treeType", trillian::TreeType_Name(tree.type)},
                  {"size", tree.size},
                  {"rootHash", absl::BytesToHexString(tree.root_hash)},
                  {"rootRecomputed", tree.recomputed},
                  {"verified", tree.status.ok()}};
    if (!tree.status.ok()) {
      entry["error"] = std::string(tree.status.message());
      // A tree never initialised has no root to match: not damage.
      if (!absl::IsFailedPrecondition(tree.status)) all_match = false;
    }
    trees.push_back(std::move(entry));
  }
  out["dataDir"] = data_dir;
  out["trees"] = std::move(trees);
  out["verified"] = all_match;
  Print(out, {"treeId", "treeType", "size", "rootHash", "verified", "error"});
  if (!all_match) {
    std::fprintf(stderr,
                 "trellis: %s does not match its signed roots: do not serve "
                 "it; restore another backup\n",
                 data_dir.c_str());
  }
  return all_match ? kOk : kInvalid;
}

}  // namespace

int AdminBackupCommand(Client& client, const std::vector<char*>& args) {
  if (args.size() != 4 || std::string(args[2]) != "backup") {
    Fail(kUsage, kUsageText);
  }
  trellis::BackupRequest request;
  request.set_directory(Absolute(args[3]));
  trellis::BackupResponse response;
  auto stub = trellis::Operations::NewStub(client.channel());
  Check(stub->Backup(client.Context().get(), request, &response), "Backup");
  json trees = json::array();
  for (const trellis::BackedUpTree& tree : response.trees()) {
    trees.push_back({{"treeId", absl::StrCat(tree.tree_id())},
                     {"treeType", tree.tree_type()},
                     {"size", tree.size()},
                     {"rootHash", absl::BytesToHexString(tree.root_hash())}});
  }
  Print(json{{"directory", response.directory()},
             {"bytes", response.bytes()},
             {"trees", std::move(trees)}});
  return kOk;
}

int AdminOfflineCommand(const std::vector<char*>& args) {
  const std::string verb = args.size() > 2 ? args[2] : "";
  if (verb == "verify" && args.size() == 4) return Verify(args[3], json{});
  if (verb == "restore" && args.size() == 5) {
    const std::string backup = args[3];
    const std::string target = args[4];
    if (absl::Status s = admin::RestoreBackup(backup, target); !s.ok()) {
      Fail(kUnusable, s.ToString());
    }
    return Verify(target, json{{"restoredFrom", backup}});
  }
  Fail(kUsage, kUsageText);
}

}  // namespace trellis::cli
