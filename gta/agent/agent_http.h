// GTA's agent API over HTTP (translation only; rules in gta_agent.h):
// POST /global-trust-authority/agent/v1/tokens -> {"token"} and
// POST /global-trust-authority/agent/v1/evidences -> the /attest body;
// errors as {"message"} with 400, 401, 404, 429, 502 or 500.
#ifndef TRELLIS_GTA_AGENT_AGENT_HTTP_H_
#define TRELLIS_GTA_AGENT_AGENT_HTTP_H_

#include "gta/agent/gta_agent.h"
#include "http/router.h"

namespace trellis::gta::agent {

void RegisterAgentRoutes(http::Router& router, const GtaAgent& agent);

}  // namespace trellis::gta::agent

#endif  // TRELLIS_GTA_AGENT_AGENT_HTTP_H_
