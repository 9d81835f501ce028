// The Unified-Identity TPM plugin's role on the host: a SovereignAttestation
// for a server nonce (a quote over it, a new app key and the AK's
// certification of that key), as node agents send it to the SPIRE server.
#ifndef TRELLIS_ATTEST_HOST_SOVEREIGN_EVIDENCE_H_
#define TRELLIS_ATTEST_HOST_SOVEREIGN_EVIDENCE_H_

#include <string>

#include "absl/status/statusor.h"
#include "attest/host/host_agent.h"
#include "spire/api/types/sovereignattestation.pb.h"

namespace trellis::attest::host {

// Evidence of host `host_id` (its registered AK in `host`'s work
// directory) quoting `nonce` (raw bytes) over `pcrs` ("sha256:0,1,...").
absl::StatusOr<spire::api::types::SovereignAttestation> SovereignEvidence(
    HostAgent& host, const std::string& nonce, const std::string& host_id,
    const std::string& pcrs);

}  // namespace trellis::attest::host

#endif  // TRELLIS_ATTEST_HOST_SOVEREIGN_EVIDENCE_H_
