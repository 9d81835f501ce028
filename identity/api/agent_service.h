// spire.api.server.agent.v1.Agent: node attestation and agent SVID renewal
// for agents; join tokens and agent administration for operators.
#ifndef TRELLIS_IDENTITY_API_AGENT_SERVICE_H_
#define TRELLIS_IDENTITY_API_AGENT_SERVICE_H_

#include "identity/api/caller.h"
#include "spire/api/server/agent/v1/agent.grpc.pb.h"

namespace trellis::identity::api {

class AgentService final
    : public spire::api::server::agent::v1::Agent::Service {
 public:
  explicit AgentService(Authority authority) : authority_(authority) {}

  grpc::Status CountAgents(
      grpc::ServerContext* context,
      const spire::api::server::agent::v1::CountAgentsRequest* request,
      spire::api::server::agent::v1::CountAgentsResponse* response) override;
  grpc::Status ListAgents(
      grpc::ServerContext* context,
      const spire::api::server::agent::v1::ListAgentsRequest* request,
      spire::api::server::agent::v1::ListAgentsResponse* response) override;
  grpc::Status GetAgent(
      grpc::ServerContext* context,
      const spire::api::server::agent::v1::GetAgentRequest* request,
      spire::api::types::Agent* response) override;
  grpc::Status DeleteAgent(
      grpc::ServerContext* context,
      const spire::api::server::agent::v1::DeleteAgentRequest* request,
      google::protobuf::Empty* response) override;
  grpc::Status BanAgent(
      grpc::ServerContext* context,
      const spire::api::server::agent::v1::BanAgentRequest* request,
      google::protobuf::Empty* response) override;
  grpc::Status AttestAgent(
      grpc::ServerContext* context,
      grpc::ServerReaderWriter<
          spire::api::server::agent::v1::AttestAgentResponse,
          spire::api::server::agent::v1::AttestAgentRequest>* stream) override;
  grpc::Status RenewAgent(
      grpc::ServerContext* context,
      const spire::api::server::agent::v1::RenewAgentRequest* request,
      spire::api::server::agent::v1::RenewAgentResponse* response) override;
  grpc::Status CreateJoinToken(
      grpc::ServerContext* context,
      const spire::api::server::agent::v1::CreateJoinTokenRequest* request,
      spire::api::types::JoinToken* response) override;

 private:
  const Authority authority_;
};

}  // namespace trellis::identity::api

#endif  // TRELLIS_IDENTITY_API_AGENT_SERVICE_H_
