// Conversions between Trellis' identity records and the SPIRE API types.
#ifndef TRELLIS_IDENTITY_API_CONVERT_H_
#define TRELLIS_IDENTITY_API_CONVERT_H_

#include "identity/agent_manager.h"
#include "spire/api/types/agent.pb.h"
#include "spire/api/types/status.pb.h"
#include "spire/api/types/x509svid.pb.h"
#include "trellis_identity.pb.h"

namespace trellis::identity::api {

spire::api::types::Agent ToApiAgent(const trellis::AttestedAgent& agent);
spire::api::types::X509SVID ToApiX509Svid(const IssuedX509& svid);
// The per-item status of batch results.
spire::api::types::Status ToApiStatus(const absl::Status& status);
// Splits "spiffe://td/path" (already valid) into the proto form.
spire::api::types::SPIFFEID ToApiSpiffeId(absl::string_view id);

}  // namespace trellis::identity::api

#endif  // TRELLIS_IDENTITY_API_CONVERT_H_
