#include "gta/agent/evidence_collector.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "attest/tpm/structures.h"
#include "util/file.h"

namespace trellis::gta::agent {
namespace {

using nlohmann::ordered_json;

constexpr char kTpmBoot[] = "tpm_boot";
constexpr char kTpmIma[] = "tpm_ima";
constexpr char kTcgEventLog[] = "TcgEventLog";
constexpr char kImaLog[] = "ImaLog";

absl::StatusOr<std::string> ReadLog(const std::string& path) {
  absl::StatusOr<std::string> bytes =
      ReadFile(path, ReadOptions{.max_bytes = kMaxLogBytes});
  if (!bytes.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot read the log ", path, ": ", bytes.status().message()));
  }
  return bytes;
}

}  // namespace

std::vector<std::string> EvidenceCollector::AttesterTypes() const {
  std::vector<std::string> types = {kTpmBoot};
  if (!sources_.ima_log_file.empty()) types.push_back(kTpmIma);
  return types;
}

absl::StatusOr<ordered_json> EvidenceCollector::Collect(
    const std::string& attester_type, const std::string& qualifying_data,
    const std::vector<std::string>& log_types) const {
  std::string pcr_list;
  std::string own_log_type;
  std::string log_file;
  if (attester_type == kTpmBoot) {
    pcr_list = sources_.boot_pcrs;
    own_log_type = kTcgEventLog;
    log_file = sources_.boot_log_file;
  } else if (attester_type == kTpmIma) {
    if (sources_.ima_log_file.empty()) {
      return absl::FailedPreconditionError(
          "tpm_ima is off on this host (no IMA list configured)");
    }
    pcr_list = sources_.ima_pcrs;
    own_log_type = kImaLog;
    log_file = sources_.ima_log_file;
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported attester type: ", attester_type));
  }
  for (const std::string& type : log_types) {
    if (type != kTcgEventLog && type != kImaLog) {
      return absl::InvalidArgumentError(
          absl::StrCat("unsupported log type: ", type));
    }
  }
  const bool send_log =
      !log_file.empty() &&
      (log_types.empty() || std::find(log_types.begin(), log_types.end(),
                                      own_log_type) != log_types.end());

  if (sources_.ak_cert_files.empty()) {
    return absl::FailedPreconditionError(
        "no AK certificate is configured (--gta_ak_certs)");
  }
  ordered_json ak_certs = ordered_json::array();
  for (const std::string& file : sources_.ak_cert_files) {
    absl::StatusOr<std::string> pem = ReadFile(file);
    if (!pem.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read the AK certificate ", file, ": ",
                       pem.status().message()));
    }
    ak_certs.push_back(
        {{"cert_type", sources_.ak_cert_type}, {"cert_data", *pem}});
  }
  // The log is read before the quote: entries appended in between are then
  // past the quoted PCR values, which verifiers tolerate, never missing.
  std::string log;
  if (send_log) {
    absl::StatusOr<std::string> bytes = ReadLog(log_file);
    if (!bytes.ok()) return bytes.status();
    log = *std::move(bytes);
  }
  absl::StatusOr<attest::host::QuoteOutput> quote =
      tpm_->Quote(qualifying_data, pcr_list);
  if (!quote.ok()) return quote.status();
  if (quote->pcrs.empty()) {
    return absl::FailedPreconditionError("the quote covers no PCRs");
  }
  // GTA's evidence names one bank for all its PCRs.
  const TPM2_ALG_ID bank = quote->pcrs.front().bank;
  ordered_json pcr_values = ordered_json::array();
  for (const attest::tpm::PcrValue& value : quote->pcrs) {
    if (value.bank != bank) {
      return absl::FailedPreconditionError(
          "GTA evidence quotes PCRs of one bank only");
    }
    pcr_values.push_back({{"pcr_index", value.pcr},
                          {"pcr_value", absl::BytesToHexString(value.digest)}});
  }
  ordered_json evidence = {
      {"ak_certs", ak_certs},
      {"quote",
       {{"quote_data", absl::Base64Escape(quote->signed_quote.attest)},
        {"signature", absl::Base64Escape(quote->signed_quote.signature)}}},
      {"pcrs",
       {{"hash_alg", attest::tpm::HashName(bank)},
        {"pcr_values", pcr_values}}}};
  if (send_log) {
    evidence["logs"] = ordered_json::array(
        {{{"log_type", own_log_type}, {"log_data", absl::Base64Escape(log)}}});
  }
  return evidence;
}

}  // namespace trellis::gta::agent
