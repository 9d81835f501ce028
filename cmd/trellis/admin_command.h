// trellis admin: backups of a data directory.
//   admin backup DIR           asks the running trellisd (operators: its
//                              operator socket) for a consistent copy of its
//                              database in DIR (made absolute here; on the
//                              server's machine), and prints the signed roots
//                              it holds
//   admin restore BACKUP DIR   offline: copies BACKUP into the new directory
//                              DIR, then checks it as `admin verify` does
//   admin verify DATA_DIR      offline (trellisd stopped, or a copy): every
//                              log's root recomputed from its leaves and every
//                              signed root checked against its tree's key
// Exit codes as the CLI's: 1 when a tree does not match its signed root.
#ifndef TRELLIS_CMD_TRELLIS_ADMIN_COMMAND_H_
#define TRELLIS_CMD_TRELLIS_ADMIN_COMMAND_H_

#include <vector>

#include "cmd/trellis/client.h"

namespace trellis::cli {

// admin backup (needs the server).
int AdminBackupCommand(Client& client, const std::vector<char*>& args);

// admin restore | verify (never contact a server).
int AdminOfflineCommand(const std::vector<char*>& args);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_ADMIN_COMMAND_H_
