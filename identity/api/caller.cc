#include "identity/api/caller.h"

#include <string>

#include "grpc/grpc_security_constants.h"

namespace trellis::identity::api {

absl::Status RequireOperator(const Authority& authority,
                             const grpc::ServerContext& context) {
  if (authority.operators->IsOperator(context)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      "this call is for operators (operator socket or operator certificate)");
}

absl::Status LimitAttestation(const Authority& authority,
                              const grpc::ServerContext& context) {
  if (authority.attestations == nullptr) return absl::OkStatus();
  // "ipv4:1.2.3.4:port" / "ipv6:[::1]:port": the address without the port.
  const std::string peer = context.peer();
  const std::string address = peer.substr(0, peer.rfind(':'));
  if (authority.attestations->Allow(address)) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      "too many attestations from this address; retry in a second");
}

absl::StatusOr<ca::VerifiedSvid> RequireSvid(
    const Authority& authority, const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  // The leaf, then the rest of what the peer sent (a server's view of the
  // peer chain may or may not repeat the leaf; verification ignores that).
  std::string chain;
  if (auth != nullptr) {
    for (const char* property : {GRPC_X509_PEM_CERT_PROPERTY_NAME,
                                 GRPC_X509_PEM_CERT_CHAIN_PROPERTY_NAME}) {
      for (const grpc::string_ref& pem : auth->FindPropertyValues(property)) {
        chain.append(pem.data(), pem.size());
      }
    }
  }
  if (chain.empty()) {
    return absl::UnauthenticatedError("this call needs an X509-SVID");
  }
  return authority.ca->VerifyCallerChain(chain);
}

absl::StatusOr<trellis::AttestedAgent> RequireAgent(
    const Authority& authority, const grpc::ServerContextBase& context) {
  absl::StatusOr<ca::VerifiedSvid> svid = RequireSvid(authority, context);
  if (!svid.ok()) return svid.status();
  return authority.agents->Authorize(*svid);
}

}  // namespace trellis::identity::api
