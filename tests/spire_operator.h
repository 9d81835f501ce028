// What an operator does to a SPIRE server before agents come, for the
// end-to-end tests of spire-agent and trellis-agent against trellisd.
#ifndef TRELLIS_TESTS_SPIRE_OPERATOR_H_
#define TRELLIS_TESTS_SPIRE_OPERATOR_H_

#include <string>

#include "nlohmann/json.hpp"
#include "spire/api/server/agent/v1/agent.grpc.pb.h"
#include "spire/api/server/bundle/v1/bundle.grpc.pb.h"
#include "spire/api/server/entry/v1/entry.grpc.pb.h"

namespace trellis::testing {

// A join token valid for ten minutes.
std::string CreateToken(spire::api::server::agent::v1::Agent::Stub& agents);

// An entry spiffe://<td><path> under spiffe://<td><parent_path> selecting
// `selector` ("type:value").
spire::api::types::Entry MakeEntry(const std::string& trust_domain,
                                   const std::string& parent_path,
                                   const std::string& path,
                                   const std::string& selector);

// `count` entries spiffe://<td>/workload/<prefix>/<i> under the agent
// spiffe://<td><parent_path>, each selecting `selector` ("type:value").
void CreateEntries(spire::api::server::entry::v1::Entry::Stub& entries,
                   const std::string& trust_domain,
                   const std::string& parent_path, const std::string& prefix,
                   int count, const std::string& selector);

// The trust domain's X.509 roots as a PEM file at `path` (an agent's
// bootstrap bundle); returns `path`.
std::string WriteBundle(spire::api::server::bundle::v1::Bundle::Stub& bundles,
                        const std::string& trust_domain,
                        const std::string& path);

// `trellis svid verify CERT --bundle BUNDLE` against the operator socket
// `operator_address`, retried until the SVID's record is integrated (30 s);
// its JSON output (null, with a failure recorded, if it never verifies).
nlohmann::json VerifySvidWhenLogged(const std::string& operator_address,
                                    const std::string& cert_path,
                                    const std::string& bundle_path);

}  // namespace trellis::testing

#endif  // TRELLIS_TESTS_SPIRE_OPERATOR_H_
