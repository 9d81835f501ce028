// trellis verify-checkpoint CHECKPOINT POLICY: offline, a C2SP checkpoint
// (a signed note with witness cosignatures) against a C2SP tlog-policy file
// that pins the log keys, the witnesses and the quorum. Exit 0 when it is
// signed by one of the policy's logs and cosigned to meet the quorum, 1
// when it is not, 2 when a file is unusable.
#ifndef TRELLIS_CMD_TRELLIS_CHECKPOINT_COMMAND_H_
#define TRELLIS_CMD_TRELLIS_CHECKPOINT_COMMAND_H_

#include <vector>

namespace trellis::cli {

int VerifyCheckpointCommand(const std::vector<char*>& args);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_CHECKPOINT_COMMAND_H_
