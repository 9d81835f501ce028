// The agent side of the spire-tpm-plugin `tpm` node attestor: the payload
// naming this TPM's EK and a new AK it certified, and the answer to the
// server's credential challenge. trellis-agent drives it over AttestAgent.
#ifndef TRELLIS_ATTEST_SPIRE_TPM_AGENT_ATTESTOR_H_
#define TRELLIS_ATTEST_SPIRE_TPM_AGENT_ATTESTOR_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attest/host/tpm_device.h"

namespace trellis::attest::spire_tpm {

class AgentAttestor {
 public:
  explicit AgentAttestor(host::TpmDevice* tpm) : tpm_(tpm) {}

  // The attestation payload, with a new AK (each attestation uses a fresh
  // one, as the plugin's agent does). The EK is sent as its certificate
  // when the TPM holds one, else as its public key.
  absl::StatusOr<std::string> Payload();

  // The challenge response: the secret the server sealed to this TPM's EK
  // and the AK of the last Payload().
  absl::StatusOr<std::string> Answer(absl::string_view challenge);

 private:
  host::TpmDevice* const tpm_;
  std::optional<host::KeyBlob> ak_;
};

}  // namespace trellis::attest::spire_tpm

#endif  // TRELLIS_ATTEST_SPIRE_TPM_AGENT_ATTESTOR_H_
