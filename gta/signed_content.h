// Users' signed content (reference values, policies of content_type jwt):
// a compact JWS whose signature must verify with one of the user's
// certificates of the right type. RS256/384/512 (GTA signs with RS384 and
// RS512), PS256/384/512 and ES256/384 are accepted; "none" never is.
#ifndef TRELLIS_GTA_SIGNED_CONTENT_H_
#define TRELLIS_GTA_SIGNED_CONTENT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "trellis_gta.pb.h"

namespace trellis::gta {

// The payload of `jws` (a JSON object) if its signature verifies with the
// key of one of `certificates_der`; INVALID_ARGUMENT otherwise.
absl::StatusOr<nlohmann::json> VerifySignedContent(
    const std::string& jws, const std::vector<std::string>& certificates_der);

// The DER of the certificates among `certs` (a user's) that are valid (not
// revoked) and of `type` ("policy", "refvalue", ...).
std::vector<std::string> CertificatesOfType(
    const std::vector<trellis::GtaCert>& certs, absl::string_view type);

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_SIGNED_CONTENT_H_
