#include "cmd/trellis/checkpoint_command.h"

#include <iostream>
#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "cmd/trellis/client.h"
#include "cmd/trellis/trust_store.h"
#include "nlohmann/json.hpp"
#include "tlog/policy.h"

namespace trellis::cli {

int VerifyCheckpointCommand(const std::vector<char*>& args,
                            const std::string& state_dir_flag) {
  if (args.size() != 4) {
    Fail(kUsage, "usage: trellis verify-checkpoint CHECKPOINT POLICY");
  }
  const std::string note = ReadFileOrDie(args[2]);
  absl::StatusOr<tlog::WitnessPolicy> policy =
      tlog::WitnessPolicy::Parse(ReadFileOrDie(args[3]));
  if (!policy.ok()) Fail(kUsage, std::string(policy.status().message()));
  absl::StatusOr<tlog::VerifiedCheckpoint> verified = policy->Verify(note);
  if (!verified.ok()) {
    // A checkpoint that does not hold up is evidence against the log.
    Fail(kInvalid, std::string(verified.status().message()));
  }
  // Remembered per origin: another root for a size seen before is a split
  // view, whatever the signatures say.
  std::string state_dir = state_dir_flag;
  if (state_dir.empty()) {
    absl::StatusOr<std::string> default_dir = DefaultStateDir();
    if (!default_dir.ok()) {
      Fail(kUsage,
           absl::StrCat(default_dir.status().message(), " (see --state_dir)"));
    }
    state_dir = *default_dir;
  }
  const CheckpointMemory memory(state_dir);
  const tlog::Checkpoint& checkpoint = verified->checkpoint;
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
  nlohmann::json witnesses = nlohmann::json::array();
  for (const std::string& name : verified->witnesses) witnesses.push_back(name);
  const nlohmann::json out = {
      {"origin", verified->checkpoint.origin},
      {"treeSize", verified->checkpoint.size},
      {"rootHash", absl::Base64Escape(verified->checkpoint.root_hash)},
      {"log", verified->log_key_name},
      {"witnesses", witnesses},
      {"verified", true}};
  std::cout << out.dump(2) << "\n";
  return kOk;
}

}  // namespace trellis::cli
