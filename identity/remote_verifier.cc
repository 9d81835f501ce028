#include "identity/remote_verifier.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "util/json_fields.h"

namespace trellis::identity {
namespace {

using nlohmann::json;

// The name of the check a remote refusal is reported under.
constexpr char kRemoteVerdict[] = "remote_verifier";

}  // namespace

absl::StatusOr<std::unique_ptr<RemoteVerifier>> RemoteVerifier::Create(
    attest::VerifierEndpoint endpoint) {
  // Checks the URL once, up front.
  absl::StatusOr<std::unique_ptr<attest::VerifierClient>> client =
      attest::VerifierClient::Create(endpoint);
  if (!client.ok()) return client.status();
  return std::unique_ptr<RemoteVerifier>(
      new RemoteVerifier(std::move(endpoint)));
}

absl::StatusOr<std::unique_ptr<attest::VerifierClient>> RemoteVerifier::Client()
    const {
  return attest::VerifierClient::Create(endpoint_);
}

absl::StatusOr<std::string> RemoteVerifier::IssueNonce(
    const std::string& host_id) {
  absl::StatusOr<std::unique_ptr<attest::VerifierClient>> client = Client();
  if (!client.ok()) return client.status();
  absl::StatusOr<json> results =
      (*client)->Post("/v2.4/verify/nonce", {{"host_id", host_id}});
  if (!results.ok()) return results.status();
  absl::StatusOr<std::string> hex = json_fields::String(*results, "nonce");
  if (!hex.ok() || hex->size() % 2 != 0 ||
      hex->find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    return absl::InternalError("the verifier's nonce is not hex");
  }
  return absl::HexStringToBytes(*hex);
}

absl::StatusOr<std::string> RemoteVerifier::HostAk(const std::string& host_id) {
  absl::StatusOr<std::unique_ptr<attest::VerifierClient>> client = Client();
  if (!client.ok()) return client.status();
  absl::StatusOr<json> host =
      (*client)->Get(absl::StrCat("/v2.4/registrar/hosts/", host_id));
  if (absl::IsFailedPrecondition(host.status())) {
    return absl::PermissionDeniedError(
        absl::StrCat("host ", host_id, " is not registered with the verifier ",
                     endpoint_.url, ": ", host.status().message()));
  }
  if (!host.ok()) return host.status();
  absl::StatusOr<std::string> ak = json_fields::Base64(*host, "ak_public");
  if (!ak.ok()) {
    return absl::InternalError(absl::StrCat(
        "the verifier's host record has no AK: ", ak.status().message()));
  }
  return ak;
}

absl::StatusOr<attest::Verdict> RemoteVerifier::Appraise(
    const attest::EvidenceRequest&, const json& body) {
  absl::StatusOr<std::unique_ptr<attest::VerifierClient>> client = Client();
  if (!client.ok()) return client.status();
  absl::StatusOr<json> results = (*client)->Post("/v2.4/verify/evidence", body);
  attest::Verdict verdict;
  if (absl::IsFailedPrecondition(results.status())) {
    // The verifier judged and refused (HTTP 422 and the like).
    verdict.checks.Add(kRemoteVerdict, false,
                       std::string(results.status().message()));
    return verdict;
  }
  if (!results.ok()) return results.status();
  const json* verified = json_fields::Find(*results, "verified");
  verdict.verified =
      verified != nullptr && verified->is_boolean() && verified->get<bool>();
  if (const json* claims = json_fields::Find(*results, "attested_claims");
      claims != nullptr && claims->is_object()) {
    verdict.attested_claims = *claims;
    if (const json* integrity =
            json_fields::Find(*claims, "host_integrity_status");
        integrity != nullptr && integrity->is_string()) {
      verdict.host_integrity_status =
          absl::AsciiStrToUpper(integrity->get<std::string>());
    }
  }
  if (absl::StatusOr<std::optional<std::string>> audit_id =
          json_fields::OptionalString(*results, "audit_id");
      audit_id.ok() && audit_id->has_value()) {
    verdict.audit_id = **audit_id;
  }
  if (absl::StatusOr<std::optional<std::string>> log_id =
          json_fields::OptionalString(*results, "audit_log_id");
      log_id.ok() && log_id->has_value()) {
    if (!absl::SimpleAtoi(**log_id, &verdict.audit_log_id)) {
      verdict.audit_log_id = 0;
    }
  }
  verdict.checks.Add(kRemoteVerdict, verdict.verified,
                     verdict.verified ? "" : "the verifier did not verify it");
  return verdict;
}

}  // namespace trellis::identity
