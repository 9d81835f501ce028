// Who is an operator. Operators manage trees, policies and registrations
// (later SPIRE entries and CAs); attestors only attest. An operator reaches
// trellisd over the operator Unix socket in the data directory (mode 0600,
// as SPIRE's admin socket: whoever can open it already owns the server's
// files), or presents a TLS client certificate issued by the operator CA
// (--operator_client_ca).
#ifndef TRELLIS_ADMIN_OPERATOR_AUTH_H_
#define TRELLIS_ADMIN_OPERATOR_AUTH_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "grpcpp/server_context.h"
#include "http/router.h"

namespace trellis::admin {

class OperatorAuth {
 public:
  // `ca_file`: PEM bundle of operator CAs; empty: operators only over the
  // socket. INVALID_ARGUMENT if the file holds no usable certificate.
  static absl::StatusOr<std::unique_ptr<OperatorAuth>> Create(
      const std::string& ca_file);
  ~OperatorAuth();

  bool has_ca() const;
  // The operator CA bundle's PEM (for TLS handshakes to accept its
  // certificates); empty without one.
  const std::string& ca_pem() const { return ca_pem_; }

  // A client certificate (DER or PEM) that chains to the operator CA and
  // may be used for TLS clients.
  bool IsOperatorCertificate(absl::string_view certificate) const;

  // Over a Unix socket, or with an operator certificate.
  bool IsOperator(const http::Request& request) const;
  bool IsOperator(const grpc::ServerContext& context) const;

 private:
  struct Store;
  OperatorAuth(std::string ca_pem, std::unique_ptr<Store> store);
  const std::string ca_pem_;
  std::unique_ptr<Store> store_;
};

}  // namespace trellis::admin

#endif  // TRELLIS_ADMIN_OPERATOR_AUTH_H_
