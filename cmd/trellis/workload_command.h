// `trellis svid fetch` and `trellis svid generate-sovereign`: a Workload
// API client (an agent's Unix socket) that writes the caller's X509-SVID as
// files: svid.crt (chain), svid.key (PKCS#8, 0600), bundle.crt and, for
// sovereign SVIDs, svid_attested_claims.json.
#ifndef TRELLIS_CMD_TRELLIS_WORKLOAD_COMMAND_H_
#define TRELLIS_CMD_TRELLIS_WORKLOAD_COMMAND_H_

#include <vector>

namespace trellis::cli {

// `svid fetch [--socket PATH] [--out DIR] [--spiffe_id ID] [--sovereign
// [--evidence FILE]]`; `svid generate-sovereign --spiffe_id ID ...` is
// fetch with --sovereign. --evidence: a JSON SovereignAttestation (proto
// JSON names) sent as is; without it the agent gathers the evidence.
int SvidFetchCommand(const std::vector<char*>& args);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_WORKLOAD_COMMAND_H_
