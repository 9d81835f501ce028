#include "attest/host/host_attestation.h"

#include <cmath>
#include <map>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "attest/host/registration.h"
#include "util/file.h"
#include "util/json_fields.h"

namespace trellis::attest::host {
namespace {

using nlohmann::json;

// `pcrs` ("sha256:0,1,...") with `pcr` added if it is not in it.
std::string WithPcr(const std::string& pcrs, int pcr) {
  const size_t colon = pcrs.find(':');
  const std::string list =
      colon == std::string::npos ? pcrs : pcrs.substr(colon + 1);
  for (absl::string_view index : absl::StrSplit(list, ',')) {
    int value = -1;
    if (absl::SimpleAtoi(index, &value) && value == pcr) return pcrs;
  }
  return absl::StrCat(pcrs, ",", pcr);
}

// A nonce for `host_id`; a host the verifier does not know is registered
// first (its keys are made first if the TPM has none for us yet).
absl::StatusOr<std::string> NonceFor(HostAgent& agent, VerifierClient& verifier,
                                     const std::string& host_id,
                                     std::vector<std::string>& steps) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    absl::StatusOr<VerifierClient::Reply> reply =
        verifier.Exchange("/v2.4/verify/nonce", {{"host_id", host_id}});
    if (!reply.ok()) return reply.status();
    if (reply->status == 200) {
      absl::StatusOr<std::string> nonce =
          json_fields::String(reply->results, "nonce");
      if (!nonce.ok()) return absl::InternalError("verifier sent no nonce");
      return *nonce;
    }
    if (reply->status != 404 || attempt > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "verifier answered ", reply->status, " for a nonce: ", reply->error));
    }
    if (!agent.StoredPublicKeys().ok()) {
      absl::StatusOr<json> made = agent.CreateEkAk("ecc");
      if (!made.ok()) return made.status();
      steps.push_back("made an EK and an AK in the TPM");
    }
    if (absl::Status s = RegisterWithVerifier(agent, verifier, host_id);
        !s.ok()) {
      return s;
    }
    steps.push_back(absl::StrCat("registered the TPM as ", host_id));
  }
  return absl::InternalError("unreachable");
}

// The field `key` of `parent` if both are objects (or arrays, for
// ArrayAt); empty otherwise: the verifier's reply is read, not trusted.
json ObjectAt(const json& parent, const std::string& key) {
  const json* field = json_fields::Find(parent, key);
  return field != nullptr && field->is_object() ? *field : json::object();
}
json ArrayAt(const json& parent, const std::string& key) {
  const json* field = json_fields::Find(parent, key);
  return field != nullptr && field->is_array() ? *field : json::array();
}
std::string StringAt(const json& parent, const std::string& key) {
  absl::StatusOr<std::string> value = json_fields::String(parent, key);
  return value.ok() ? *value : "";
}

}  // namespace

absl::StatusOr<Geolocation> ParseGeolocation(const std::string& text) {
  std::vector<std::string> fields = absl::StrSplit(text, ',');
  Geolocation out;
  const auto bad = [&text] {
    return absl::InvalidArgumentError(absl::StrCat(
        "--geolocation \"", text,
        "\" is not COUNTRY,LATITUDE,LONGITUDE (e.g. Spain,40.4168,-3.7038)"));
  };
  if (fields.size() < 3) return bad();
  const std::string longitude = std::move(fields.back());
  fields.pop_back();
  const std::string latitude = std::move(fields.back());
  fields.pop_back();
  out.country =
      std::string(absl::StripAsciiWhitespace(absl::StrJoin(fields, ",")));
  if (out.country.empty() ||
      !absl::SimpleAtod(absl::StripAsciiWhitespace(latitude), &out.latitude) ||
      !absl::SimpleAtod(absl::StripAsciiWhitespace(longitude),
                        &out.longitude) ||
      !(std::fabs(out.latitude) <= 90) || !(std::fabs(out.longitude) <= 180)) {
    return bad();
  }
  return out;
}

absl::StatusOr<HostAttestation> AttestHost(
    HostAgent& agent, VerifierClient& verifier,
    const HostAttestationOptions& options) {
  if (options.host_id.empty()) {
    return absl::InvalidArgumentError("--host_id is required");
  }
  // The files first: a typo should not cost a nonce.
  std::optional<std::string> ima_log, boot_log;
  if (!options.ima_log.empty()) {
    absl::StatusOr<std::string> text = ReadFile(options.ima_log);
    if (!text.ok()) return text.status();
    ima_log = *std::move(text);
  }
  if (!options.boot_log.empty()) {
    absl::StatusOr<std::string> bytes = ReadFile(options.boot_log);
    if (!bytes.ok()) return bytes.status();
    boot_log = absl::Base64Escape(*bytes);
  }

  HostAttestation out;
  absl::StatusOr<std::string> nonce =
      NonceFor(agent, verifier, options.host_id, out.steps);
  if (!nonce.ok()) return nonce.status();
  absl::StatusOr<HostAgent::PublicKeys> keys = agent.StoredPublicKeys();
  if (!keys.ok()) return keys.status();
  const std::string pcrs = options.geolocation.has_value()
                               ? WithPcr(options.pcrs, options.geolocation_pcr)
                               : options.pcrs;
  absl::StatusOr<json> app_key = agent.GenerateAppKey();
  if (!app_key.ok()) return app_key.status();
  absl::StatusOr<std::string> quote = agent.GenerateQuote(*nonce, pcrs);
  if (!quote.ok()) return quote.status();
  absl::StatusOr<std::string> certificate =
      agent.CertifyAppKey(app_key->value("app_key_context", ""), "", *nonce);
  if (!certificate.ok()) return certificate.status();

  json data = {{"nonce", *nonce},
               {"quote", *quote},
               {"hash_alg", "sha256"},
               {"app_key_public", StringAt(*app_key, "app_key_public")},
               {"app_key_certificate", *certificate},
               {"tpm_ak", absl::Base64Escape(keys->ak)},
               {"tpm_ek", absl::Base64Escape(keys->ek)}};
  if (ima_log.has_value()) data["ima_measurement_list"] = *ima_log;
  if (boot_log.has_value()) data["mb_measurement_list"] = *boot_log;
  if (options.geolocation.has_value()) {
    data["geolocation"] = {{"country", options.geolocation->country},
                           {"latitude", options.geolocation->latitude},
                           {"longitude", options.geolocation->longitude}};
  }
  const json evidence = {{"type", "tpm-app-key"},
                         {"data", std::move(data)},
                         {"metadata",
                          {{"source", "trellis-tpm attest"},
                           {"submission_type", "PoR/tpm-app-key"},
                           {"audit_id", ""}}}};
  absl::StatusOr<VerifierClient::Reply> reply =
      verifier.Exchange("/v2.4/verify/evidence", evidence);
  if (!reply.ok()) return reply.status();
  if (reply->status != 200 && reply->status != 422) {
    return absl::FailedPreconditionError(
        absl::StrCat("verifier answered ", reply->status,
                     " to the evidence: ", reply->error));
  }
  out.http_status = reply->status;
  if (!reply->results.is_object()) {
    return absl::InternalError("the verifier's reply holds no results");
  }
  const json* verified = json_fields::Find(reply->results, "verified");
  out.verified = reply->status == 200 && verified != nullptr &&
                 verified->is_boolean() && verified->get<bool>();
  out.results = std::move(reply->results);
  out.error = std::move(reply->error);
  return out;
}

std::string FormatHostAttestation(const HostAttestation& attestation,
                                  const std::string& host_id) {
  std::string out = absl::StrCat(
      host_id, ": ", attestation.verified ? "VERIFIED" : "NOT VERIFIED",
      attestation.error.empty() ? ""
                                : absl::StrCat(" (", attestation.error, ")"),
      "\n");
  for (const std::string& step : attestation.steps) {
    absl::StrAppend(&out, "  first: ", step, "\n");
  }
  const json& results = attestation.results;
  std::map<std::string, std::string> failures;
  for (const json& failure : ArrayAt(results, "failures")) {
    failures[StringAt(failure, "check")] = StringAt(failure, "detail");
  }
  absl::StrAppend(&out, "checks:\n");
  const json details = ObjectAt(results, "verification_details");
  for (const auto& [check, passed] : details.items()) {
    if (!passed.is_boolean()) continue;  // The timestamp.
    absl::StrAppend(&out, passed.get<bool>() ? "  ok    " : "  FAIL  ", check);
    auto failure = failures.find(check);
    if (failure != failures.end() && !failure->second.empty()) {
      absl::StrAppend(&out, ": ", failure->second);
    }
    absl::StrAppend(&out, "\n");
  }
  const json claims = ObjectAt(results, "attested_claims");
  bool claims_heading = false;
  for (const auto& [name, value] : claims.items()) {
    if (absl::EndsWith(name, "_details")) continue;
    if (!claims_heading) absl::StrAppend(&out, "claims:\n");
    claims_heading = true;
    absl::StrAppend(
        &out, "  ", name, ": ",
        value.is_string() ? value.get<std::string>() : value.dump());
    const json claim_details = ObjectAt(claims, name + "_details");
    const json* attested = json_fields::Find(claim_details, "tpm_attested");
    if (attested != nullptr && *attested == true) {
      absl::StatusOr<int64_t> pcr =
          json_fields::Integer(claim_details, "tpm_attested_pcr_index");
      absl::StrAppend(&out, " (bound in PCR ", pcr.ok() ? *pcr : -1,
                      " and quoted)");
    } else if (attested != nullptr) {
      absl::StrAppend(&out, " (claimed, not bound in the TPM)");
    }
    absl::StrAppend(&out, "\n");
  }
  const std::string audit_id = StringAt(results, "audit_id");
  if (!audit_id.empty()) {
    absl::StrAppend(&out, "audit: ", audit_id, " in log ",
                    StringAt(results, "audit_log_id"),
                    "\n  (an auditor checks it with: trellis audit show ",
                    audit_id, ")\n");
  }
  return out;
}

json HostAttestationJson(const HostAttestation& attestation,
                         const std::string& host_id) {
  json out = {{"host_id", host_id},
              {"verified", attestation.verified},
              {"http_status", attestation.http_status},
              {"steps", attestation.steps},
              {"results", attestation.results}};
  if (!attestation.error.empty()) out["error"] = attestation.error;
  return out;
}

}  // namespace trellis::attest::host
