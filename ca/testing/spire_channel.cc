#include "ca/testing/spire_channel.h"

#include <vector>

#include "grpcpp/create_channel.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_certificate_verifier.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace trellis::ca::testing {

std::shared_ptr<grpc::Channel> SpireChannel(const std::string& address,
                                            const std::string& key_pem,
                                            const std::string& cert_chain_pem,
                                            int index) {
  grpc::experimental::TlsChannelCredentialsOptions tls;
  tls.set_verify_server_certs(false);
  tls.set_check_call_host(false);
  tls.set_certificate_verifier(
      std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
  if (!cert_chain_pem.empty()) {
    tls.set_certificate_provider(
        std::make_shared<grpc::experimental::StaticDataCertificateProvider>(
            std::vector<grpc::experimental::IdentityKeyCertPair>{
                {key_pem, cert_chain_pem}}));
    tls.watch_identity_key_cert_pairs();
  }
  grpc::ChannelArguments args;
  args.SetInt("trellis.channel", index);
  return grpc::CreateCustomChannel(
      address, grpc::experimental::TlsCredentials(tls), args);
}

}  // namespace trellis::ca::testing
