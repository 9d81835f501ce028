// An upstream CA given as files (SPIRE's "disk" upstream authority): it
// signs each of the server's CAs, and its roots become the trust domain's.
#ifndef TRELLIS_CA_UPSTREAM_CA_H_
#define TRELLIS_CA_UPSTREAM_CA_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ca/x509.h"

namespace trellis::ca {

struct UpstreamCa {
  std::shared_ptr<const ParsedIssuer> issuer;
  // The upstream CA certificate and its intermediates (DER), up to but not
  // including a root: what SVID chains carry above the server's CA.
  std::vector<std::string> chain;
  std::vector<std::string> roots;  // DER.
};

// From PEM: the upstream CA certificate (then any intermediates above it),
// its private key, and the roots (empty: the CA certificate must be
// self-signed and is the root). INVALID_ARGUMENT, saying what is wrong, if
// they do not parse, the key does not match, the certificate is not a CA or
// does not chain to the roots.
absl::StatusOr<UpstreamCa> ParseUpstreamCa(absl::string_view cert_pem,
                                           absl::string_view key_pem,
                                           absl::string_view bundle_pem,
                                           const std::string& trust_domain);

}  // namespace trellis::ca

#endif  // TRELLIS_CA_UPSTREAM_CA_H_
