// trellis verify-checkpoint CHECKPOINT POLICY: offline, a C2SP checkpoint
// (a signed note with witness cosignatures) against a C2SP tlog-policy file
// that pins the log keys, the witnesses and the quorum. Exit 0 when it is
// signed by one of the policy's logs and cosigned to meet the quorum, 1
// when it is not, 2 when a file is unusable. The largest checkpoint verified
// per origin is remembered in the state directory (`state_dir`, or the
// default); a later one of the same size with another root is a split view
// (exit 1).
#ifndef TRELLIS_CMD_TRELLIS_CHECKPOINT_COMMAND_H_
#define TRELLIS_CMD_TRELLIS_CHECKPOINT_COMMAND_H_

#include <string>
#include <vector>

namespace trellis::cli {

int VerifyCheckpointCommand(const std::vector<char*>& args,
                            const std::string& state_dir);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_CHECKPOINT_COMMAND_H_
