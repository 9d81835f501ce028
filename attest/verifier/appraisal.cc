#include "attest/verifier/appraisal.h"

#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "attest/eventlog/event_log.h"
#include "attest/ima/measurement_list.h"
#include "attest/keylime/quote.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "attest/verifier/app_key_verifier.h"

namespace trellis::attest {
namespace {

using nlohmann::json;

// The SHA-256 PCR values a quote proves, by index; empty unless the quote's
// signature, selection and digest all verified.
std::map<int, std::string> ProvenPcrs(const QuoteVerification& quoted) {
  std::map<int, std::string> pcrs;
  for (const char* check :
       {kQuoteSignatureValid, kPcrSelectionValid, kPcrDigestValid}) {
    const CheckResult* r = quoted.checks.Find(check);
    if (r == nullptr || !r->passed) return pcrs;
  }
  for (const tpm::PcrValue& v : quoted.pcrs.values) {
    if (v.bank == TPM2_ALG_SHA256) pcrs[v.pcr] = v.digest;
  }
  return pcrs;
}

void CheckEventLog(const EvidenceRequest& request, const Policy& policy,
                   const std::map<int, std::string>& pcrs, Checks& checks) {
  if (request.mb_measurement_list.empty()) {
    if (policy.require_measured_boot) {
      checks.Add(kEventLogValid, false, "the policy requires a boot event log");
    }
    return;
  }
  std::string bytes;
  if (!absl::Base64Unescape(request.mb_measurement_list, &bytes)) {
    checks.Add(kEventLogValid, false, "mb_measurement_list is not base64");
    return;
  }
  absl::StatusOr<eventlog::EventLog> log = eventlog::Parse(bytes);
  absl::StatusOr<std::map<uint32_t, std::string>> replayed =
      log.ok() ? eventlog::Replay(*log, TPM2_ALG_SHA256) : log.status();
  if (!replayed.ok()) {
    checks.Add(kEventLogValid, false, std::string(replayed.status().message()));
    return;
  }
  int compared = 0;
  for (const auto& [pcr, value] : *replayed) {
    auto quoted = pcrs.find(static_cast<int>(pcr));
    if (quoted == pcrs.end()) continue;
    ++compared;
    if (quoted->second != value) {
      checks.Add(
          kEventLogValid, false,
          absl::StrCat("the event log does not replay to quoted PCR ", pcr));
      return;
    }
  }
  checks.Add(kEventLogValid, compared > 0,
             compared > 0 ? "" : "the quote covers none of the log's PCRs");
}

void CheckIma(const EvidenceRequest& request, const Policy& policy,
              const std::map<int, std::string>& pcrs, Checks& checks) {
  if (request.ima_measurement_list.empty()) {
    if (policy.require_ima) {
      checks.Add(kImaPcrValid, false, "the policy requires an IMA list");
    }
    return;
  }
  auto pcr10 = pcrs.find(10);
  if (pcr10 == pcrs.end()) {
    checks.Add(kImaPcrValid, false, "the quote does not prove PCR 10");
    return;
  }
  const ima::RuntimePolicy* allowlist =
      policy.ima.has_value() ? &*policy.ima : nullptr;
  absl::StatusOr<ima::ListAppraisal> list = ima::AppraiseAscii(
      request.ima_measurement_list, TPM2_ALG_SHA256, pcr10->second,
      [allowlist](absl::string_view path, absl::string_view digest,
                  bool violation) -> const char* {
        return allowlist == nullptr ? nullptr
                                    : allowlist->Check(path, digest, violation);
      });
  if (!list.ok()) {
    checks.Add(kImaPcrValid, false, std::string(list.status().message()));
    return;
  }
  const bool matched = list->matched_entries.has_value();
  checks.Add(kImaPcrValid, matched,
             matched ? "" : "no prefix of the IMA list replays to PCR 10");
  if (!matched || allowlist == nullptr) return;
  std::string detail;
  for (size_t i = 0; i < list->failures.size() && i < 5; ++i) {
    absl::StrAppend(&detail, i ? "; " : "", list->failures[i].first, ": ",
                    list->failures[i].second);
  }
  if (list->failures.size() > 5) absl::StrAppend(&detail, "; ...");
  checks.Add(kImaAllowlistValid, list->failures.empty(), detail);
}

void CheckPcrValues(const Policy& policy,
                    const std::map<int, std::string>& pcrs, Checks& checks) {
  if (policy.pcr_values.empty()) return;
  for (const auto& [pcr, golden] : policy.pcr_values) {
    auto quoted = pcrs.find(pcr);
    if (quoted == pcrs.end() || quoted->second != golden) {
      checks.Add(
          kPcrValuesValid, false,
          absl::StrCat("PCR ", pcr,
                       quoted == pcrs.end() ? " is not quoted"
                                            : " differs from the policy"));
      return;
    }
  }
  checks.Add(kPcrValuesValid, true);
}

std::string Degrees(double value, char positive, char negative) {
  return absl::StrFormat("%c%.4f", value >= 0 ? positive : negative,
                         value >= 0 ? value : -value);
}

json Claims(const EvidenceRequest& request, const Policy& policy,
            const std::map<int, std::string>& pcrs) {
  json claims = json::object();
  if (request.geolocation.has_value()) {
    const EvidenceRequest::Geolocation& g = *request.geolocation;
    // Attested only if the host extended exactly this document into the
    // policy's PCR since reset and the quote proves that PCR.
    const std::string bound =
        *tpm::TpmHash2(TPM2_ALG_SHA256, std::string(32, '\0'),
                       *tpm::TpmHash(TPM2_ALG_SHA256, g.canonical));
    auto quoted = pcrs.find(policy.geolocation_pcr);
    const bool attested = quoted != pcrs.end() && quoted->second == bound;
    claims["geolocation"] =
        absl::StrCat(g.country, ": ", Degrees(g.latitude, 'N', 'S'), ", ",
                     Degrees(g.longitude, 'E', 'W'));
    claims["geolocation_details"] = {
        {"country", g.country},
        {"latitude", g.latitude},
        {"longitude", g.longitude},
        {"tpm_attested", attested},
        {"tpm_attested_pcr_index", policy.geolocation_pcr}};
  }
  if (request.gpu_metrics.has_value()) {
    claims["gpu_metrics_health"] = {
        {"status", request.gpu_metrics->status},
        {"utilization_pct", request.gpu_metrics->utilization_pct},
        {"memory_mb", request.gpu_metrics->memory_mb},
        {"tpm_attested", false}};  // Self-reported by the host.
  }
  return claims;
}

}  // namespace

Appraisal AppraiseEvidence(const EvidenceRequest& request,
                           const RegisteredAk& registered,
                           const std::optional<TpmClock>& previous,
                           const Policy& policy, const Checks& extra) {
  Appraisal appraisal;
  // One conversion of the AK for both signatures.
  RegisteredAk ak = registered;
  if (ak.key == nullptr) ak.key = AkKey(ak).value_or(nullptr);
  appraisal.checks.Append(extra);
  const std::string nonce = absl::HexStringToBytes(request.nonce);
  const TPM2_ALG_ID hash =
      tpm::HashFromName(request.hash_alg).value_or(TPM2_ALG_SHA256);
  std::map<int, std::string> pcrs;
  absl::StatusOr<keylime::Quote> quote = keylime::ParseQuote(request.quote);
  if (!quote.ok()) {
    appraisal.checks.Add(kQuoteFormatValid, false,
                         std::string(quote.status().message()));
  } else {
    QuoteExpectation expect;
    expect.nonce = nonce;
    expect.hash = hash;
    expect.previous = previous;
    QuoteVerification quoted = VerifyQuote(*quote, ak, expect);
    appraisal.checks.Append(quoted.checks);
    if (quoted.checks.Find(kQuoteFormatValid)->passed) {
      appraisal.clock = quoted.clock;
      appraisal.attest_digest =
          tpm::TpmHash(TPM2_ALG_SHA256, quote->attest).value_or("");
    }
    pcrs = ProvenPcrs(quoted);
  }
  VerifyAppKeyCertificate(request.app_key_certificate, request.app_key_public,
                          ak, nonce, hash, appraisal.checks);
  CheckEventLog(request, policy, pcrs, appraisal.checks);
  CheckIma(request, policy, pcrs, appraisal.checks);
  CheckPcrValues(policy, pcrs, appraisal.checks);

  appraisal.integrity = Decide(appraisal.checks);
  appraisal.verified = Verified(appraisal.integrity, policy);
  appraisal.claims = Claims(request, policy, pcrs);
  std::string status = IntegrityName(appraisal.integrity);
  for (char& c : status) c = static_cast<char>(std::tolower(c));
  appraisal.claims["host_integrity_status"] = status;
  return appraisal;
}

}  // namespace trellis::attest
