// GTA evidence from this host (the agent side of tpm_boot and tpm_ima): the
// AK's certificate chain, a quote by the AK over the attester type's PCRs
// bound to the caller's qualifying data, those PCRs' values, and the boot
// event log or IMA list read from the kernel (or files standing in for
// them), in the shape the GTA service's /attest takes.
#ifndef TRELLIS_GTA_AGENT_EVIDENCE_COLLECTOR_H_
#define TRELLIS_GTA_AGENT_EVIDENCE_COLLECTOR_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "attest/host/host_agent.h"
#include "nlohmann/json.hpp"

namespace trellis::gta::agent {

inline constexpr char kDefaultBootLog[] =
    "/sys/kernel/security/tpm0/binary_bios_measurements";
inline constexpr char kDefaultImaLog[] =
    "/sys/kernel/security/ima/ascii_runtime_measurements";
// The largest log sent: base64 grows it by a third, and the service's
// request bodies are at most 8 MiB (trellisd's default).
inline constexpr size_t kMaxLogBytes = 6 << 20;

struct EvidenceSources {
  // PEM files of the AK's certificate and the intermediates above it, the
  // AK's first; each becomes an ak_certs entry of `ak_cert_type`.
  std::vector<std::string> ak_cert_files;
  std::string ak_cert_type = "aik";
  // Empty: that attester type has no log (tpm_boot) or is off (tpm_ima).
  std::string boot_log_file = kDefaultBootLog;
  std::string ima_log_file = kDefaultImaLog;
  std::string boot_pcrs = "sha256:0,1,2,3,4,5,6,7";
  std::string ima_pcrs = "sha256:10";
};

class EvidenceCollector {
 public:
  EvidenceCollector(attest::host::HostAgent* tpm, EvidenceSources sources)
      : tpm_(tpm), sources_(std::move(sources)) {}

  // The attester types this host reports when a caller names none:
  // tpm_boot, and tpm_ima if an IMA list is configured.
  std::vector<std::string> AttesterTypes() const;

  // Evidence of `attester_type` ("tpm_boot" or "tpm_ima"): {ak_certs, quote,
  // pcrs, logs}. `log_types` (TcgEventLog, ImaLog) limits the logs sent;
  // empty sends the type's own. INVALID_ARGUMENT for an unknown type or log
  // type, FAILED_PRECONDITION if the AK or its certificates are missing or
  // a log cannot be read.
  absl::StatusOr<nlohmann::ordered_json> Collect(
      const std::string& attester_type, const std::string& qualifying_data,
      const std::vector<std::string>& log_types) const;

 private:
  attest::host::HostAgent* const tpm_;
  const EvidenceSources sources_;
};

}  // namespace trellis::gta::agent

#endif  // TRELLIS_GTA_AGENT_EVIDENCE_COLLECTOR_H_
