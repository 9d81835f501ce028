// C2SP checkpoints and tlog-proofs on the command line.
//
// trellis verify-checkpoint CHECKPOINT POLICY: offline, a checkpoint (a
// signed note with witness cosignatures) against a C2SP tlog-policy file
// that pins the log keys, the witnesses and the quorum.
//
// trellis verify-proof FILE.tlog-proof --policy POLICY [--leaf FILE]:
// offline, a tlog-proof: its checkpoint as above, and the inclusion of the
// leaf (the file's contents, else the proof's extra data) in it.
//
// Both exit 0 when everything verifies, 1 when something does not, 2 when
// a file is unusable. The largest checkpoint verified per origin is
// remembered in the state directory; a later one of the same size with
// another root is a split view (exit 1). With --tiles_url (the log's
// tlog-tiles prefix), so is one of another size whose tree the log's hash
// tiles do not prove an extension (or a prefix) of the remembered one:
// the consistency proof is built from the tiles and verified against both
// signed roots, so the tiles need not be trusted.
//
// trellis log prove TREE_ID --index N --format=tlog-proof: the log's latest
// checkpoint (from its tlog-tiles listener, --tlog_url) with the leaf's
// inclusion proof at that size and the leaf value as extra data.
#ifndef TRELLIS_CMD_TRELLIS_CHECKPOINT_COMMAND_H_
#define TRELLIS_CMD_TRELLIS_CHECKPOINT_COMMAND_H_

#include <string>
#include <vector>

#include "cmd/trellis/client.h"
#include "trillian.pb.h"

namespace trellis::cli {

// `tiles_url` (may be empty): the log's tlog-tiles prefix, from whose hash
// tiles a checkpoint of another size than the remembered one is proven
// consistent with it.
int VerifyCheckpointCommand(const std::vector<char*>& args,
                            const std::string& state_dir,
                            const std::string& tiles_url);

// `text` is the proof file's contents (it starts with the tlog-proof
// header); `leaf_file` may be empty.
int VerifyTlogProofCommand(const std::string& text,
                           const std::string& policy_file,
                           const std::string& leaf_file,
                           const std::string& state_dir,
                           const std::string& tiles_url);

int ProveTlogProof(Client& client, const trillian::Tree& tree, int64_t index,
                   const std::string& tlog_url);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_CHECKPOINT_COMMAND_H_
