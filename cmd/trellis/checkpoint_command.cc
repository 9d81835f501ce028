#include "cmd/trellis/checkpoint_command.h"

#include <iostream>
#include <string>

#include "absl/strings/escaping.h"
#include "cmd/trellis/client.h"
#include "nlohmann/json.hpp"
#include "tlog/policy.h"

namespace trellis::cli {

int VerifyCheckpointCommand(const std::vector<char*>& args) {
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
