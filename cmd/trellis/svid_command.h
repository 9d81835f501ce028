// `trellis svid dump|verify|latest`: what an X509-SVID says, whether it is
// provably in Trellis' issuance log, and what was last issued to an ID.
#ifndef TRELLIS_CMD_TRELLIS_SVID_COMMAND_H_
#define TRELLIS_CMD_TRELLIS_SVID_COMMAND_H_

#include <vector>

#include "cmd/trellis/client.h"

namespace trellis::cli {

// `svid dump CERT`: SPIFFE ID, subject, issuer, serial, validity, DNS names
// (PEM or DER file); no server needed.
int SvidDumpCommand(const std::vector<char*>& args);

// `svid verify CERT --bundle FILE`: the certificate chains to the bundle;
// its inclusion promise is signed by the issuance log's (pinned) key; the
// log holds the record the promise names, with a verified inclusion proof,
// and that record describes this certificate. Prints the record (with the
// attestation verdict it rests on). kInvalid when anything does not hold.
int SvidVerifyCommand(Client& client, const std::vector<char*>& args);

// `svid latest SPIFFE_ID [--map_id N]`: the latest issuance to that ID and
// the verdict behind it, from the identity map (default: the tree named
// trellis-identities) with the map proof verified against the pinned key.
// kInvalid if nothing was issued to it (the proof then shows absence).
int SvidLatestCommand(Client& client, const std::vector<char*>& args);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_SVID_COMMAND_H_
