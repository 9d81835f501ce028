// `trellis spire ...`: administration of trellisd's SPIRE server role
// (join tokens, entries, agents, the bundle), shaped like spire-server's
// own commands.
#ifndef TRELLIS_CMD_TRELLIS_SPIRE_COMMAND_H_
#define TRELLIS_CMD_TRELLIS_SPIRE_COMMAND_H_

#include <vector>

#include "cmd/trellis/client.h"

namespace trellis::cli {

int SpireCommand(Client& client, const std::vector<char*>& args);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_SPIRE_COMMAND_H_
