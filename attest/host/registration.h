// The host's side of registration with a Trellis verifier: send the EK and
// AK, activate the credential the registrar sealed to them, return the
// secret. Over the verifier's HTTPS API.
#ifndef TRELLIS_ATTEST_HOST_REGISTRATION_H_
#define TRELLIS_ATTEST_HOST_REGISTRATION_H_

#include <string>

#include "absl/status/status.h"
#include "attest/api/verifier_client.h"
#include "attest/host/host_agent.h"

namespace trellis::attest::host {

using attest::VerifierEndpoint;

// Registers the agent's EK and AK (from create-ek-ak) as `host_id`.
absl::Status RegisterWithVerifier(HostAgent& agent,
                                  const VerifierEndpoint& verifier,
                                  const std::string& host_id);
absl::Status RegisterWithVerifier(HostAgent& agent, VerifierClient& client,
                                  const std::string& host_id);

}  // namespace trellis::attest::host

#endif  // TRELLIS_ATTEST_HOST_REGISTRATION_H_
