// trellis-tpm's HTTP API (loopback only): the SPIRE TPM plugin's operations
// and the delegated certification endpoint of the Unified-Identity design.
//   POST /v2.2/delegated_certification/certify_app_key
//        {"api_version","command":"certify_app_key","app_key_public",
//         "app_key_context_path"[,"challenge_nonce"]}
//     -> 200 {"result":"SUCCESS","app_key_certificate"}; 400 bad request,
//        403 delegated certification disabled, 500 TPM failure, each
//        {"result":"ERROR","error"}
//   POST /generate-app-key {} -> {"status","app_key_public","app_key_context"}
//   POST /generate-quote {"nonce"[,"pcrs"]} -> {"status","quote"}
#ifndef TRELLIS_ATTEST_HOST_AGENT_HTTP_H_
#define TRELLIS_ATTEST_HOST_AGENT_HTTP_H_

#include <string>

#include "attest/host/host_agent.h"
#include "http/router.h"

namespace trellis::attest::host {

struct AgentHttpOptions {
  bool delegated_certification = true;
  std::string default_pcrs = "sha256:0,1,2,3,4,5,6,7,10";
};

void RegisterAgentRoutes(http::Router& router, HostAgent& agent,
                         const AgentHttpOptions& options);

}  // namespace trellis::attest::host

#endif  // TRELLIS_ATTEST_HOST_AGENT_HTTP_H_
