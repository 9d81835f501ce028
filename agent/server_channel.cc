#include "agent/server_channel.h"

#include "absl/strings/str_cat.h"
#include "ca/svid_verify.h"
#include "ca/x509.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace trellis::agent {
namespace {

// SPIFFE authentication of the server, in place of hostname checks.
class ServerSvidVerifier
    : public grpc::experimental::ExternalCertificateVerifier {
 public:
  ServerSvidVerifier(std::string server_id,
                     std::shared_ptr<const TrustedRoots> roots)
      : server_id_(std::move(server_id)), roots_(std::move(roots)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request,
              std::function<void(grpc::Status)>,
              grpc::Status* sync_status) override {
    *sync_status = Check(std::string(request->peer_cert_full_chain().data(),
                                     request->peer_cert_full_chain().size()));
    return true;  // Decided synchronously.
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {
  }

 private:
  grpc::Status Check(const std::string& chain_pem) const {
    std::string id;
    if (roots_ != nullptr) {
      absl::StatusOr<ca::VerifiedSvid> svid =
          ca::VerifySvidChain(chain_pem, roots_->Get());
      if (!svid.ok()) {
        return grpc::Status(
            grpc::StatusCode::UNAUTHENTICATED,
            absl::StrCat("server certificate: ", svid.status().message()));
      }
      id = svid->spiffe_id;
    } else {
      // Insecure bootstrap: only the leaf's single URI SAN is looked at.
      absl::StatusOr<std::vector<std::string>> certs =
          ca::CertificatesFromPem(chain_pem);
      absl::StatusOr<ca::CertificateInfo> leaf =
          certs.ok() && !certs->empty()
              ? ca::DescribeCertificate(certs->front())
              : absl::StatusOr<ca::CertificateInfo>(
                    absl::InvalidArgumentError("no certificate"));
      if (!leaf.ok() || leaf->uri_sans.size() != 1) {
        return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                            "server certificate is not an X509-SVID");
      }
      id = leaf->uri_sans.front();
    }
    if (id != server_id_) {
      return grpc::Status(
          grpc::StatusCode::UNAUTHENTICATED,
          absl::StrCat("server presented ", id, ", expected ", server_id_));
    }
    return grpc::Status::OK;
  }

  const std::string server_id_;
  const std::shared_ptr<const TrustedRoots> roots_;
};

}  // namespace

std::shared_ptr<grpc::Channel> ServerChannel(
    const ServerChannelOptions& options) {
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_verify_server_certs(false);
  tls.set_check_call_host(false);
  tls.set_certificate_verifier(
      grpc::experimental::ExternalCertificateVerifier::Create<
          ServerSvidVerifier>(
          absl::StrCat("spiffe://", options.trust_domain, "/spire/server"),
          options.roots));
  if (!options.chain_pem.empty()) {
    tls.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
            std::vector<grpc::experimental::IdentityKeyCertPair>{
                {options.key_pem, options.chain_pem}}));
    tls.watch_identity_key_cert_pairs();
  }
  grpc::ChannelArguments args;
  // A channel per SVID: never share a connection made with an older one.
  args.SetString("trellis.agent_svid", options.chain_pem);
  return grpc::CreateCustomChannel(
      options.address, grpc::experimental::TlsCredentials(tls), args);
}

}  // namespace trellis::agent
