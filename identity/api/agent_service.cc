#include "identity/api/agent_service.h"

#include "identity/api/convert.h"
#include "util/grpc_status.h"

namespace trellis::identity::api {

namespace agent_v1 = spire::api::server::agent::v1;

namespace {

// The agent an operator names: a SPIFFE ID in the server's trust domain.
absl::StatusOr<std::string> AgentIdOf(const Authority& authority,
                                      const spire::api::types::SPIFFEID& id) {
  if (id.trust_domain() != authority.ca->options().trust_domain) {
    return absl::InvalidArgumentError(
        "agent ID is not a member of the server's trust domain");
  }
  return SpiffeIdString(id);
}

}  // namespace

grpc::Status AgentService::CountAgents(
    grpc::ServerContext* context, const agent_v1::CountAgentsRequest*,
    agent_v1::CountAgentsResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  absl::StatusOr<std::vector<trellis::AttestedAgent>> agents =
      authority_.agents->List();
  if (!agents.ok()) return ToGrpc(agents.status());
  response->set_count(static_cast<int32_t>(agents->size()));
  return grpc::Status::OK;
}

grpc::Status AgentService::ListAgents(grpc::ServerContext* context,
                                      const agent_v1::ListAgentsRequest*,
                                      agent_v1::ListAgentsResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  absl::StatusOr<std::vector<trellis::AttestedAgent>> agents =
      authority_.agents->List();
  if (!agents.ok()) return ToGrpc(agents.status());
  for (const trellis::AttestedAgent& agent : *agents) {
    *response->add_agents() = ToApiAgent(agent);
  }
  return grpc::Status::OK;
}

grpc::Status AgentService::GetAgent(grpc::ServerContext* context,
                                    const agent_v1::GetAgentRequest* request,
                                    spire::api::types::Agent* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  absl::StatusOr<std::string> id = AgentIdOf(authority_, request->id());
  if (!id.ok()) return ToGrpc(id.status());
  absl::StatusOr<trellis::AttestedAgent> agent = authority_.agents->Get(*id);
  if (!agent.ok()) return ToGrpc(agent.status());
  *response = ToApiAgent(*agent);
  return grpc::Status::OK;
}

grpc::Status AgentService::DeleteAgent(
    grpc::ServerContext* context, const agent_v1::DeleteAgentRequest* request,
    google::protobuf::Empty*) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  absl::StatusOr<std::string> id = AgentIdOf(authority_, request->id());
  if (!id.ok()) return ToGrpc(id.status());
  return ToGrpc(authority_.agents->Delete(*id));
}

grpc::Status AgentService::BanAgent(grpc::ServerContext* context,
                                    const agent_v1::BanAgentRequest* request,
                                    google::protobuf::Empty*) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  absl::StatusOr<std::string> id = AgentIdOf(authority_, request->id());
  if (!id.ok()) return ToGrpc(id.status());
  return ToGrpc(authority_.agents->Ban(*id));
}

namespace {

using AttestStream = grpc::ServerReaderWriter<agent_v1::AttestAgentResponse,
                                              agent_v1::AttestAgentRequest>;

// Sends the agent `challenge` and returns its answer.
absl::StatusOr<std::string> Challenge(AttestStream& stream,
                                      const std::string& challenge) {
  agent_v1::AttestAgentResponse message;
  message.set_challenge(challenge);
  if (!stream.Write(message)) {
    return absl::CancelledError("agent went away before the challenge");
  }
  agent_v1::AttestAgentRequest answer;
  if (!stream.Read(&answer) || !answer.has_challenge_response()) {
    return absl::InvalidArgumentError("missing challenge response");
  }
  return std::move(*answer.mutable_challenge_response());
}

// Sends host `host_id` a nonce as the attestation challenge; the answer is
// its SovereignAttestation quoting that nonce.
absl::StatusOr<spire::api::types::SovereignAttestation> AskForEvidence(
    AgentManager& agents, const std::string& host_id, AttestStream& stream) {
  absl::StatusOr<std::string> nonce = agents.SovereignChallenge(host_id);
  if (!nonce.ok()) return nonce.status();
  absl::StatusOr<std::string> answer = Challenge(stream, *nonce);
  if (!answer.ok()) return answer.status();
  spire::api::types::SovereignAttestation evidence;
  if (!evidence.ParseFromString(*answer)) {
    return absl::InvalidArgumentError(
        "challenge response is not a SovereignAttestation");
  }
  return evidence;
}

}  // namespace

grpc::Status AgentService::AttestAgent(grpc::ServerContext* context,
                                       AttestStream* stream) {
  if (absl::Status s = LimitAttestation(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  agent_v1::AttestAgentRequest request;
  if (!stream->Read(&request)) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "missing attestation request");
  }
  if (!request.has_params() || !request.params().has_data() ||
      !request.params().has_params()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "missing params, attestation data or SVID params");
  }
  const spire::api::types::AttestationData& data = request.params().data();
  if (data.type().empty() || data.payload().empty()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "missing attestation data type or payload");
  }
  AgentManager& agents = *authority_.agents;
  const bool unified = data.type() == kUnifiedIdentityType;
  const bool tpm = data.type() == attest::spire_tpm::kAttestorName;
  if (data.type() != "join_token" && !(tpm && agents.tpm_enabled()) &&
      !(unified && agents.sovereign_enabled())) {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        "could not find node attestor type \"" + data.type() + "\"");
  }
  // The TPM proves it holds the EK and AK it named by releasing a secret
  // sealed to them.
  std::optional<attest::spire_tpm::NodeVerifier::Pending> tpm_pending;
  std::string tpm_answer;
  if (tpm) {
    absl::StatusOr<attest::spire_tpm::NodeVerifier::Pending> pending =
        agents.BeginTpm(data.payload());
    if (!pending.ok()) return ToGrpc(pending.status());
    absl::StatusOr<std::string> answer = Challenge(*stream, pending->challenge);
    if (!answer.ok()) return ToGrpc(answer.status());
    tpm_pending = std::move(*pending);
    tpm_answer = std::move(*answer);
  }
  const agent_v1::AgentX509SVIDParams& params = request.params().params();
  // Sovereign evidence: given with the request, or asked for with a
  // challenge when the request carries none with a quote (a nonce must come
  // from this server first).
  std::optional<spire::api::types::SovereignAttestation> evidence;
  if (agents.sovereign_enabled() &&
      (unified || params.has_sovereign_attestation())) {
    const spire::api::types::SovereignAttestation& given =
        params.sovereign_attestation();
    if (!given.tpm_signed_attestation().empty()) {
      evidence = given;
    } else {
      absl::StatusOr<std::string> host = SovereignAttestor::HostOf(
          given, unified ? data.payload() : std::string());
      if (!host.ok()) return ToGrpc(host.status());
      absl::StatusOr<spire::api::types::SovereignAttestation> answered =
          AskForEvidence(agents, *host, *stream);
      if (!answered.ok()) return ToGrpc(answered.status());
      evidence = std::move(*answered);
    }
  }
  const spire::api::types::SovereignAttestation* given_evidence =
      evidence ? &*evidence : nullptr;
  absl::StatusOr<IssuedX509> svid =
      unified ? agents.AttestSovereign(data.payload(), params.csr(), *evidence)
      : tpm   ? agents.AttestTpm(*tpm_pending, tpm_answer, params.csr(),
                                 given_evidence)
              : agents.AttestJoinToken(data.payload(), params.csr(),
                                       given_evidence);
  if (!svid.ok()) return ToGrpc(svid.status());
  agent_v1::AttestAgentResponse response;
  agent_v1::AttestAgentResponse::Result* result = response.mutable_result();
  *result->mutable_svid() = ToApiX509Svid(*svid);
  result->set_reattestable(unified || tpm);
  if (svid->attested_claims) {
    *result->add_attested_claims() = *svid->attested_claims;
  }
  stream->Write(response);
  return grpc::Status::OK;
}

grpc::Status AgentService::RenewAgent(
    grpc::ServerContext* context, const agent_v1::RenewAgentRequest* request,
    agent_v1::RenewAgentResponse* response) {
  absl::StatusOr<trellis::AttestedAgent> agent =
      RequireAgent(authority_, *context);
  if (!agent.ok()) return ToGrpc(agent.status());
  if (!request->has_params()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "missing params");
  }
  const agent_v1::AgentX509SVIDParams& params = request->params();
  absl::StatusOr<AgentManager::Renewal> renewal = authority_.agents->Renew(
      *agent, params.csr(),
      params.has_sovereign_attestation() ? &params.sovereign_attestation()
                                         : nullptr);
  if (!renewal.ok()) return ToGrpc(renewal.status());
  if (!renewal->svid.has_value()) {
    response->set_challenge_nonce(renewal->challenge_nonce);
    return grpc::Status::OK;
  }
  *response->mutable_svid() = ToApiX509Svid(*renewal->svid);
  if (renewal->svid->attested_claims) {
    *response->add_attested_claims() = *renewal->svid->attested_claims;
  }
  return grpc::Status::OK;
}

grpc::Status AgentService::CreateJoinToken(
    grpc::ServerContext* context,
    const agent_v1::CreateJoinTokenRequest* request,
    spire::api::types::JoinToken* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  std::string agent_id;
  if (request->has_agent_id()) agent_id = SpiffeIdString(request->agent_id());
  absl::StatusOr<trellis::JoinTokenRecord> token =
      authority_.agents->CreateJoinToken(request->ttl(), request->token(),
                                         agent_id);
  if (!token.ok()) return ToGrpc(token.status());
  response->set_value(token->token());
  response->set_expires_at(token->expires_at());
  return grpc::Status::OK;
}

}  // namespace trellis::identity::api
