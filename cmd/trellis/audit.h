// trellis audit / policy: what auditors and operators do with the
// attestation verifier: an audit_id's record and replay, the policies.
//   audit show AUDIT_ID     the logged record (an attestation verdict, a GTA
//                           change or token, an SVID issuance) with its
//                           inclusion proof, verified against a signed root
//   audit replay AUDIT_ID   fetches the evidence (checked against the
//                           record's digest) and the host's keys from the
//                           verifier, re-runs the appraisal offline and says
//                           whether it reaches the logged verdict
#ifndef TRELLIS_CMD_TRELLIS_AUDIT_H_
#define TRELLIS_CMD_TRELLIS_AUDIT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "attest/api/verifier_client.h"
#include "cmd/trellis/client.h"

namespace trellis::cli {

struct AuditOptions {
  // 0: show searches the record logs, replay uses "trellis-attestations".
  int64_t log_id = 0;
  attest::VerifierEndpoint verifier;
};

// args: policy put ID FILE | policy get ID [--version=N, in `version`]:
// the verifier's appraisal policies (printed as JSON).
int PolicyCommand(Client& client, const std::vector<char*>& args,
                  int64_t version);

// trellis host remove HOST_ID (operators).
int HostCommand(Client& client, const std::vector<char*>& args);

// args: audit show|replay AUDIT_ID. Exit codes as the CLI's: replay exits 1
// when the replay disagrees with the log.
int AuditCommand(Client& client, const std::vector<char*>& args,
                 const AuditOptions& options);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_AUDIT_H_
