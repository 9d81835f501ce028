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

grpc::Status AgentService::AttestAgent(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<agent_v1::AttestAgentResponse,
                             agent_v1::AttestAgentRequest>* stream) {
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
  if (data.type() != "join_token") {
    return grpc::Status(
        grpc::StatusCode::FAILED_PRECONDITION,
        "could not find node attestor type \"" + data.type() + "\"");
  }
  absl::StatusOr<IssuedX509> svid = authority_.agents->AttestJoinToken(
      data.payload(), request.params().params().csr());
  if (!svid.ok()) return ToGrpc(svid.status());
  agent_v1::AttestAgentResponse response;
  *response.mutable_result()->mutable_svid() = ToApiX509Svid(*svid);
  response.mutable_result()->set_reattestable(false);
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
  absl::StatusOr<IssuedX509> svid =
      authority_.agents->Renew(*agent, request->params().csr());
  if (!svid.ok()) return ToGrpc(svid.status());
  *response->mutable_svid() = ToApiX509Svid(*svid);
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
