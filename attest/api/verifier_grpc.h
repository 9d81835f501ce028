// trellis.AttestationVerifier over gRPC: translates to the appraiser, with
// the same validation as the HTTPS API (the request becomes its JSON body).
#ifndef TRELLIS_ATTEST_API_VERIFIER_GRPC_H_
#define TRELLIS_ATTEST_API_VERIFIER_GRPC_H_

#include "attest/verifier/appraiser.h"
#include "trellis_attest.grpc.pb.h"

namespace trellis::attest {

class VerifierGrpcService final : public trellis::AttestationVerifier::Service {
 public:
  VerifierGrpcService(Appraiser* appraiser, NonceStore* nonces)
      : appraiser_(appraiser), nonces_(nonces) {}

  grpc::Status IssueNonce(grpc::ServerContext*,
                          const trellis::IssueNonceRequest* request,
                          trellis::IssueNonceResponse* response) override;
  grpc::Status VerifyEvidence(
      grpc::ServerContext*, const trellis::VerifyEvidenceRequest* request,
      trellis::VerifyEvidenceResponse* response) override;
  grpc::Status PutPolicy(grpc::ServerContext*,
                         const trellis::PutPolicyRequest* request,
                         trellis::Policy* response) override;
  grpc::Status GetPolicy(grpc::ServerContext*,
                         const trellis::GetPolicyRequest* request,
                         trellis::Policy* response) override;

 private:
  Appraiser* const appraiser_;
  NonceStore* const nonces_;
};

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_API_VERIFIER_GRPC_H_
