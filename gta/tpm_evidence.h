// GTA's TPM evidence (tpm_boot and tpm_ima attester types): parsing with
// limits, the quote checks, and the policy input GTA builds from the logs.
// Stricter than GTA where it is lax: the quote's PCR selection must be
// exactly the reported PCRs of the reported bank.
#ifndef TRELLIS_GTA_TPM_EVIDENCE_H_
#define TRELLIS_GTA_TPM_EVIDENCE_H_

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace trellis::gta {

inline constexpr size_t kMaxAkCerts = 10;
inline constexpr size_t kMaxLogBytes = 32 << 20;
inline constexpr size_t kMaxImaEntries = 100000;

struct TpmLog {
  std::string type;  // "TcgEventLog" or "ImaLog"
  std::string data;  // Decoded.
};

struct TpmEvidence {
  std::vector<std::string> ak_cert_pems;  // The AK's first.
  std::string quote_data;                 // TPMS_ATTEST.
  std::string signature;                  // TPMT_SIGNATURE.
  std::string hash_alg;                   // As reported ("sha256").
  TPM2_ALG_ID bank = TPM2_ALG_SHA256;
  std::map<uint32_t, std::string> pcrs;  // Index -> value bytes.
  std::vector<TpmLog> logs;
};

// INVALID_ARGUMENT naming the field for anything missing or malformed.
// ak_certs (an array of {cert_type, cert_data}) and the API document's
// ak_cert (one PEM string) are both accepted.
absl::StatusOr<TpmEvidence> ParseTpmEvidence(const nlohmann::json& evidence);

// The extraData GTA binds a quote to: SHA-256 of the nonce bytes followed
// by the base64 of attester_data's compact JSON (members in the order the
// attester sent them), each only if present; nullopt when neither is (the
// quote's extraData is then not checked).
std::optional<std::string> ExpectedExtraData(
    const std::optional<std::string>& nonce_bytes,
    const std::optional<std::string>& attester_data_json);

// The quote: signed by `ak`, a TPM quote, extraData as expected (when
// given), selecting exactly the reported PCRs of the reported bank, and
// its PCR digest equal to the hash of the reported values in index order.
// INVALID_ARGUMENT saying which check failed.
absl::Status VerifyQuote(const TpmEvidence& evidence, const EVP_PKEY& ak,
                         const std::optional<std::string>& expected_extra);

// The tpm_boot policy input's log: the TCG event log replayed into the
// reported bank ({"log_type", "log_status": replay_success |
// replay_failure, "ref_value_match_status": "ignore", "is_log_valid",
// "log_data": [events]}); "no_log" without one. INVALID_ARGUMENT for a log
// that does not parse or an event whose digest must be the hash of its
// data and is not.
absl::StatusOr<nlohmann::json> BootLogInput(const TpmEvidence& evidence);

// The tpm_ima policy input's log: the IMA list (ASCII, at most 100,000
// entries) replayed into PCR 10 of the reported bank up to the quoted
// value (a list may have grown after the quote), then every file digest
// but boot_aggregate's and violations' looked up in `reference_sha256`
// (lower-case hex): {"log_type": "ImaLog", "log_status", "is_log_valid",
// "ref_value_match_status": matched | unmatched | ignore (replay failed),
// "log_data": {"logs": [{"pcr_index", "template_hash", "template_name",
// "file_hash_alg", "file_hash", "file_path", "ref_value_matched"}]}}.
absl::StatusOr<nlohmann::json> ImaLogInput(
    const TpmEvidence& evidence, const std::set<std::string>& reference_sha256);

// The policy input: {"evidence": {"logs": [...], "pcrs": {...}}}.
nlohmann::json PolicyInput(const TpmEvidence& evidence, nlohmann::json logs);

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_TPM_EVIDENCE_H_
