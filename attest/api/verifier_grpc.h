// trellis.AttestationVerifier over gRPC: translates to the appraiser, with
// the same validation as the HTTPS API (the request becomes its JSON body).
#ifndef TRELLIS_ATTEST_API_VERIFIER_GRPC_H_
#define TRELLIS_ATTEST_API_VERIFIER_GRPC_H_

#include <functional>

#include "attest/registrar/registrar.h"
#include "attest/verifier/appraiser.h"
#include "trellis_attest.grpc.pb.h"

namespace trellis::attest {

class VerifierGrpcService final : public trellis::AttestationVerifier::Service {
 public:
  // Whether a call comes from an operator (admin/operator_auth.h).
  using GrpcOperatorCheck = std::function<bool(const grpc::ServerContext&)>;

  VerifierGrpcService(Registrar* registrar, Appraiser* appraiser,
                      NonceStore* nonces, GrpcOperatorCheck is_operator)
      : registrar_(registrar),
        appraiser_(appraiser),
        nonces_(nonces),
        is_operator_(std::move(is_operator)) {}

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
  grpc::Status RemoveHost(grpc::ServerContext* context,
                          const trellis::RemoveHostRequest* request,
                          trellis::RemoveHostResponse*) override;

 private:
  grpc::Status CheckOperator(const grpc::ServerContext& context) const;

  Registrar* const registrar_;
  Appraiser* const appraiser_;
  NonceStore* const nonces_;
  const GrpcOperatorCheck is_operator_;
};

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_API_VERIFIER_GRPC_H_
