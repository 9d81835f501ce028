// trellis gta: operators' commands for a GTA service API (trellisd's
// --gta_addr, or GTA's own), as one user:
//   gta register                          a new User-Id and API-Key
//   gta policy add FILE --name=N --attester_type=T[,T] [--default=true]
//              [--description=D] [--content_type=text|jwt]
//   gta policy update ID [FILE] [--name] [--description] [--attester_type]
//              [--default=true|false]
//   gta policy list [--attester_type=T] | get ID... |
//              delete ID... | --attester_type=T | --all
//   gta refvalue add FILE.jws --name=N [--default=true] [--description=D]
//   gta refvalue update|list|get|delete  (as policy)
//   gta cert add FILE.pem --name=N --cert_type=T[,T] [--description=D]
//   gta cert add-crl FILE.pem --name=N
//   gta cert update ID [--name] [--description] [--cert_type]
//   gta cert list [--cert_type=T] | get ID... |
//              delete ID... | --cert_type=T | --all
//   gta token verify TOKEN|-            exit 0 if it verifies, 1 if not
// Replies are printed as JSON; the service's refusals exit 1 with its
// message, an unreachable service 2.
#ifndef TRELLIS_CMD_TRELLIS_GTA_COMMAND_H_
#define TRELLIS_CMD_TRELLIS_GTA_COMMAND_H_

#include <string>
#include <vector>

namespace trellis::cli {

// args: gta ...; `data_dir` locates trellisd's self-signed GTA certificate.
int GtaCommand(const std::vector<char*>& args, const std::string& data_dir);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_GTA_COMMAND_H_
