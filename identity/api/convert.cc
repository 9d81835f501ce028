#include "identity/api/convert.h"

#include "absl/strings/match.h"
#include "absl/strings/strip.h"

namespace trellis::identity::api {

spire::api::types::SPIFFEID ToApiSpiffeId(absl::string_view id) {
  spire::api::types::SPIFFEID out;
  absl::ConsumePrefix(&id, "spiffe://");
  const size_t slash = id.find('/');
  out.set_trust_domain(std::string(id.substr(0, slash)));
  if (slash != absl::string_view::npos) {
    out.set_path(std::string(id.substr(slash)));
  }
  return out;
}

spire::api::types::Agent ToApiAgent(const trellis::AttestedAgent& agent) {
  spire::api::types::Agent out;
  *out.mutable_id() = ToApiSpiffeId(agent.spiffe_id());
  out.set_attestation_type(agent.attestation_type());
  out.set_x509svid_serial_number(agent.cert_serial_number());
  out.set_x509svid_expires_at(agent.cert_not_after());
  *out.mutable_selectors() = agent.selectors();
  out.set_banned(agent.cert_serial_number().empty());
  out.set_can_reattest(agent.can_reattest());
  return out;
}

spire::api::types::X509SVID ToApiX509Svid(const IssuedX509& svid) {
  spire::api::types::X509SVID out;
  for (const std::string& der : svid.cert_chain) out.add_cert_chain(der);
  *out.mutable_id() = ToApiSpiffeId(svid.spiffe_id);
  out.set_expires_at(svid.expires_at);
  return out;
}

spire::api::types::Status ToApiStatus(const absl::Status& status) {
  spire::api::types::Status out;
  out.set_code(static_cast<int32_t>(status.code()));
  out.set_message(std::string(status.message()));
  return out;
}

}  // namespace trellis::identity::api
