#include "attest/api/verifier_grpc.h"

#include "absl/strings/escaping.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "util/grpc_status.h"

namespace trellis::attest {
namespace {

using nlohmann::json;

// The HTTPS API's body for the same evidence.
json Body(const trellis::VerifyEvidenceRequest& request) {
  const trellis::TpmAppKeyEvidence& e = request.evidence();
  json data = {{"nonce", absl::BytesToHexString(e.nonce())},
               {"quote", e.quote()},
               {"hash_alg", e.hash_alg()},
               {"app_key_public", e.app_key_public()},
               {"app_key_certificate", e.app_key_certificate()},
               {"tpm_ak", absl::Base64Escape(e.tpm_ak())}};
  if (!e.tpm_ek().empty()) data["tpm_ek"] = absl::Base64Escape(e.tpm_ek());
  if (!e.ima_measurement_list().empty()) {
    data["ima_measurement_list"] = e.ima_measurement_list();
  }
  if (!e.mb_measurement_list().empty()) {
    data["mb_measurement_list"] = absl::Base64Escape(e.mb_measurement_list());
  }
  if (e.has_geolocation()) {
    data["geolocation"] = {{"country", e.geolocation().country()},
                           {"latitude", e.geolocation().latitude()},
                           {"longitude", e.geolocation().longitude()}};
  }
  if (e.has_gpu_metrics()) {
    data["gpu_metrics"] = {
        {"status", e.gpu_metrics().status()},
        {"utilization_pct", e.gpu_metrics().utilization_pct()},
        {"memory_mb", e.gpu_metrics().memory_mb()}};
  }
  return {{"type", "tpm-app-key"},
          {"data", data},
          {"metadata",
           {{"source", request.source()},
            {"submission_type", request.submission_type()}}}};
}

}  // namespace

grpc::Status VerifierGrpcService::IssueNonce(
    grpc::ServerContext*, const trellis::IssueNonceRequest* request,
    trellis::IssueNonceResponse* response) {
  absl::StatusOr<std::string> nonce =
      appraiser_->IssueNonce(request->host_id());
  if (!nonce.ok()) return ToGrpc(nonce.status());
  response->set_nonce(*nonce);
  response->set_expires_in_seconds(absl::ToInt64Seconds(nonces_->lifetime()));
  return grpc::Status::OK;
}

grpc::Status VerifierGrpcService::VerifyEvidence(
    grpc::ServerContext*, const trellis::VerifyEvidenceRequest* request,
    trellis::VerifyEvidenceResponse* response) {
  absl::StatusOr<EvidenceRequest> evidence =
      ParseEvidenceRequest(Body(*request));
  if (!evidence.ok()) return ToGrpc(evidence.status());
  absl::StatusOr<Verdict> verdict = appraiser_->Appraise(*evidence);
  if (!verdict.ok()) return ToGrpc(verdict.status());
  response->set_verified(verdict->verified);
  response->set_host_integrity_status(verdict->host_integrity_status);
  *response->mutable_checks() = verdict->record.checks();
  if (const CheckResult* failed = verdict->checks.first_failure()) {
    response->set_failed_check(failed->name);
  }
  response->set_attested_claims_json(verdict->attested_claims.dump());
  response->set_audit_leaf_hash(absl::HexStringToBytes(verdict->audit_id));
  response->set_audit_log_id(verdict->audit_log_id);
  return grpc::Status::OK;
}

namespace {

grpc::Status ToProto(const absl::StatusOr<Policy>& policy,
                     trellis::Policy* response) {
  if (!policy.ok()) return ToGrpc(policy.status());
  response->set_id(policy->id);
  response->set_version(policy->version);
  response->set_digest(policy->digest);
  response->set_policy_json(policy->text);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status VerifierGrpcService::CheckOperator(
    const grpc::ServerContext& context) const {
  if (is_operator_(context)) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      "operators only: use the operator socket or a client "
                      "certificate from the operator CA");
}

grpc::Status VerifierGrpcService::RemoveHost(
    grpc::ServerContext* context, const trellis::RemoveHostRequest* request,
    trellis::RemoveHostResponse*) {
  if (grpc::Status denied = CheckOperator(*context); !denied.ok()) {
    return denied;
  }
  return ToGrpc(registrar_->RemoveHost(request->host_id()));
}

grpc::Status VerifierGrpcService::PutPolicy(
    grpc::ServerContext* context, const trellis::PutPolicyRequest* request,
    trellis::Policy* response) {
  if (grpc::Status denied = CheckOperator(*context); !denied.ok()) {
    return denied;
  }
  absl::StatusOr<int64_t> version =
      appraiser_->PutPolicy(request->id(), request->policy_json());
  if (!version.ok()) return ToGrpc(version.status());
  return ToProto(appraiser_->LoadPolicy(request->id(), *version), response);
}

grpc::Status VerifierGrpcService::GetPolicy(
    grpc::ServerContext*, const trellis::GetPolicyRequest* request,
    trellis::Policy* response) {
  return ToProto(appraiser_->LoadPolicy(request->id(), request->version()),
                 response);
}

}  // namespace trellis::attest
