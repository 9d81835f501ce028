// Verification of an X509-SVID chain a peer presents (agents on the SPIRE
// endpoint), against the trust domain's X.509 roots.
#ifndef TRELLIS_CA_SVID_VERIFY_H_
#define TRELLIS_CA_SVID_VERIFY_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace trellis::ca {

struct VerifiedSvid {
  std::string spiffe_id;      // The leaf's single URI SAN.
  std::string serial_number;  // Decimal, as SerialNumber() gives it.
  absl::Time not_after;
};

// Checks that `chain_pem` (PEM certificates, leaf first, as TLS reported
// them) chains to one of `roots_der` and that the leaf is an X509-SVID (one
// URI SAN, not a CA). Validity periods are not checked here: an expired
// agent SVID must be told apart (AGENT_EXPIRED) from a foreign one.
// UNAUTHENTICATED if the chain does not verify or is not an SVID.
absl::StatusOr<VerifiedSvid> VerifySvidChain(
    absl::string_view chain_pem, const std::vector<std::string>& roots_der);

}  // namespace trellis::ca

#endif  // TRELLIS_CA_SVID_VERIFY_H_
