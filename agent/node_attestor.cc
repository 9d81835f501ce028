#include "agent/node_attestor.h"

#include "absl/strings/str_cat.h"
#include "attest/host/host_agent.h"
#include "attest/host/sovereign_evidence.h"
#include "attest/host/tpm_device.h"
#include "attest/spire_tpm/agent_attestor.h"
#include "spire/api/server/agent/v1/agent.grpc.pb.h"
#include "util/grpc_status.h"

namespace trellis::agent {
namespace {

namespace agent_v1 = spire::api::server::agent::v1;

// How long an attestation may take (TPM work included).
constexpr absl::Duration kAttestTimeout = absl::Seconds(60);

class JoinTokenAttestor : public NodeAttestor {
 public:
  explicit JoinTokenAttestor(std::string token) : token_(std::move(token)) {}
  std::string type() const override { return "join_token"; }
  absl::StatusOr<std::string> Payload() override {
    if (token_.empty()) {
      return absl::FailedPreconditionError(
          "no stored agent SVID and no join token to attest with");
    }
    return token_;
  }
  absl::StatusOr<std::string> Answer(const std::string&) override {
    return absl::InternalError("server issued unexpected challenge");
  }

 private:
  const std::string token_;
};

class TpmAttestor : public NodeAttestor {
 public:
  explicit TpmAttestor(std::unique_ptr<attest::host::TpmDevice> tpm)
      : tpm_(std::move(tpm)), attestor_(tpm_.get()) {}
  std::string type() const override { return "tpm"; }
  absl::StatusOr<std::string> Payload() override { return attestor_.Payload(); }
  absl::StatusOr<std::string> Answer(const std::string& challenge) override {
    return attestor_.Answer(challenge);
  }

 private:
  const std::unique_ptr<attest::host::TpmDevice> tpm_;
  attest::spire_tpm::AgentAttestor attestor_;
};

class UnifiedIdentityAttestor : public NodeAttestor {
 public:
  UnifiedIdentityAttestor(std::unique_ptr<attest::host::TpmDevice> tpm,
                          const AgentConfig& config)
      : host_(std::move(tpm), config.tpm_work_dir),
        host_id_(config.host_id),
        pcrs_(config.pcrs) {}
  std::string type() const override { return "unified_identity"; }
  absl::StatusOr<std::string> Payload() override { return host_id_; }
  absl::StatusOr<std::string> Answer(const std::string& nonce) override {
    absl::StatusOr<spire::api::types::SovereignAttestation> evidence =
        attest::host::SovereignEvidence(host_, nonce, host_id_, pcrs_);
    if (!evidence.ok()) return evidence.status();
    return evidence->SerializeAsString();
  }

 private:
  attest::host::HostAgent host_;
  const std::string host_id_;
  const std::string pcrs_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<NodeAttestor>> MakeNodeAttestor(
    const AgentConfig& config) {
  if (config.node_attestor == "join_token") {
    return std::make_unique<JoinTokenAttestor>(config.join_token);
  }
  absl::StatusOr<std::unique_ptr<attest::host::TpmDevice>> tpm =
      attest::host::TpmDevice::Open(config.tpm_tcti);
  if (!tpm.ok()) return tpm.status();
  if (config.node_attestor == "tpm") {
    return std::make_unique<TpmAttestor>(std::move(*tpm));
  }
  if (config.node_attestor == "unified_identity") {
    return std::make_unique<UnifiedIdentityAttestor>(std::move(*tpm), config);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown node attestor \"", config.node_attestor, "\""));
}

absl::StatusOr<AttestedNode> AttestNode(
    const std::shared_ptr<grpc::Channel>& channel, NodeAttestor& attestor,
    const std::string& csr_der) {
  absl::StatusOr<std::string> payload = attestor.Payload();
  if (!payload.ok()) return payload.status();
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kAttestTimeout));
  auto stream = agent_v1::Agent::NewStub(channel)->AttestAgent(&context);
  agent_v1::AttestAgentRequest request;
  request.mutable_params()->mutable_data()->set_type(attestor.type());
  request.mutable_params()->mutable_data()->set_payload(*payload);
  request.mutable_params()->mutable_params()->set_csr(csr_der);
  if (!stream->Write(request)) return FromGrpc(stream->Finish());
  agent_v1::AttestAgentResponse response;
  absl::Status answer_error;
  while (stream->Read(&response)) {
    if (response.has_result()) break;
    absl::StatusOr<std::string> answer = attestor.Answer(response.challenge());
    if (!answer.ok()) {
      answer_error = answer.status();
      context.TryCancel();
      break;
    }
    agent_v1::AttestAgentRequest reply;
    reply.set_challenge_response(*answer);
    if (!stream->Write(reply)) break;
  }
  stream->WritesDone();
  grpc::Status status = stream->Finish();
  if (!answer_error.ok()) return answer_error;
  if (!status.ok()) return FromGrpc(status);
  if (!response.has_result() || response.result().svid().cert_chain().empty()) {
    return absl::InternalError(
        "server answered the attestation without an SVID");
  }
  AttestedNode node;
  node.chain_der.assign(response.result().svid().cert_chain().begin(),
                        response.result().svid().cert_chain().end());
  node.reattestable = response.result().reattestable();
  return node;
}

}  // namespace trellis::agent
