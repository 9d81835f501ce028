#include "attest/api/verifier_http.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "util/json_fields.h"

namespace trellis::attest {
namespace {

using nlohmann::json;

int HttpCode(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kFailedPrecondition:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
      return 409;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    default:
      return 500;
  }
}

const char* Reason(int code) {
  switch (code) {
    case 200:
      return "Success";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    default:
      return "Internal Server Error";
  }
}

void Reply(http::Response& res, int code, json results,
           const std::string& error = "") {
  json body = {{"code", code},
               {"status", Reason(code)},
               {"results", std::move(results)}};
  if (!error.empty()) body["error"] = error;
  res.status = code;
  res.body = body.dump();
}

void ReplyError(http::Response& res, const absl::Status& status) {
  Reply(res, HttpCode(status), json::object(), std::string(status.message()));
}

// The body as a JSON object, or a 400 reply.
std::optional<json> Body(const http::Request& req, http::Response& res) {
  absl::StatusOr<json> body = json_fields::ParseObject(req.body);
  if (!body.ok()) {
    ReplyError(res, body.status());
    return std::nullopt;
  }
  return std::move(*body);
}

// A required non-empty string member, or a 400 reply.
std::optional<std::string> Text(const json& body, const char* name,
                                http::Response& res) {
  absl::StatusOr<std::string> text = json_fields::String(body, name);
  if (!text.ok()) {
    ReplyError(res, text.status());
    return std::nullopt;
  }
  return std::move(*text);
}

// A base64 member decoded (required, or "" when optional and absent), or a
// 400 reply.
std::optional<std::string> Base64(const json& body, const char* name,
                                  http::Response& res, bool required = true) {
  absl::StatusOr<std::optional<std::string>> bytes =
      json_fields::OptionalBase64(body, name);
  if (bytes.ok() && !bytes->has_value() && required) {
    bytes = absl::InvalidArgumentError(
        absl::StrCat("missing required field \"", name, "\""));
  }
  if (!bytes.ok()) {
    ReplyError(res, bytes.status());
    return std::nullopt;
  }
  return bytes->value_or("");
}

json VerdictResults(const Verdict& verdict) {
  json details = json::object();
  for (const CheckResult& r : verdict.checks.results()) {
    details[r.name] = r.passed;
  }
  details["timestamp"] = verdict.timestamp;
  json failures = json::array();
  for (const CheckResult& r : verdict.checks.results()) {
    if (!r.passed)
      failures.push_back({{"check", r.name}, {"detail", r.detail}});
  }
  json results = {{"verified", verdict.verified},
                  {"verification_details", details},
                  {"attested_claims", verdict.attested_claims}};
  // Refusals of unregistered AKs are not logged and have no audit id.
  if (!verdict.audit_id.empty()) {
    results["audit_id"] = verdict.audit_id;
    // Ours: the log tree in which audit_id is a leaf hash.
    results["audit_log_id"] = absl::StrCat(verdict.audit_log_id);
  }
  if (!failures.empty()) results["failures"] = failures;
  return results;
}

}  // namespace

void RegisterVerifierRoutes(http::Router& router, Registrar& registrar,
                            Appraiser& appraiser, NonceStore& nonces,
                            OperatorCheck is_operator) {
  router.SetErrorBody([](int status, absl::string_view message) {
    json body = {{"code", status},
                 {"status", Reason(status)},
                 {"results", json::object()},
                 {"error", message}};
    return body.dump();
  });
  // Operators only: 403 for anyone else.
  auto operator_only = [is_operator](http::Handler handler) {
    return
        [is_operator, handler](const http::Request& req, http::Response& res) {
          if (!is_operator(req)) {
            return ReplyError(
                res, absl::PermissionDeniedError(
                         "operators only: use the operator socket or a client "
                         "certificate from the operator CA"));
          }
          handler(req, res);
        };
  };

  router.Post("/v2.4/verify/evidence", [&appraiser](const http::Request& req,
                                                    http::Response& res) {
    std::optional<json> body = Body(req, res);
    if (!body.has_value()) return;
    absl::StatusOr<EvidenceRequest> request = ParseEvidenceRequest(*body);
    if (!request.ok()) return ReplyError(res, request.status());
    absl::StatusOr<Verdict> verdict = appraiser.Appraise(*request);
    if (!verdict.ok()) return ReplyError(res, verdict.status());
    if (verdict->verified) return Reply(res, 200, VerdictResults(*verdict));
    const CheckResult* failed = verdict->checks.first_failure();
    json results = VerdictResults(*verdict);
    results["failed_check"] = failed->name;
    Reply(res, 422, std::move(results),
          absl::StrCat("verification failed: ", failed->name,
                       failed->detail.empty() ? "" : ": ", failed->detail));
  });

  router.Post(
      "/v2.4/verify/nonce",
      [&appraiser, &nonces](const http::Request& req, http::Response& res) {
        std::optional<json> body = Body(req, res);
        if (!body.has_value()) return;
        std::optional<std::string> host_id = Text(*body, "host_id", res);
        if (!host_id.has_value()) return;
        absl::StatusOr<std::string> nonce = appraiser.IssueNonce(*host_id);
        if (!nonce.ok()) return ReplyError(res, nonce.status());
        Reply(res, 200,
              {{"nonce", absl::BytesToHexString(*nonce)},
               {"expires_in", absl::ToInt64Seconds(nonces.lifetime())}});
      });

  router.Post("/v2.4/registrar/register", [&registrar](const http::Request& req,
                                                       http::Response& res) {
    std::optional<json> body = Body(req, res);
    if (!body.has_value()) return;
    std::optional<std::string> host_id = Text(*body, "host_id", res);
    if (!host_id) return;
    std::optional<std::string> ek = Base64(*body, "ek_public", res);
    if (!ek) return;
    std::optional<std::string> cert =
        Base64(*body, "ek_certificate", res, /*required=*/false);
    if (!cert) return;
    std::optional<std::string> ak = Base64(*body, "ak_public", res);
    if (!ak) return;
    absl::StatusOr<Credential> credential =
        registrar.Register({*host_id, *ek, *cert, *ak});
    if (!credential.ok()) return ReplyError(res, credential.status());
    Reply(res, 200,
          {{"credential", absl::Base64Escape(credential->credential_blob)},
           {"secret", absl::Base64Escape(credential->encrypted_secret)}});
  });

  // Appraisal policies, versioned: PUT makes the next version.
  router.Put(
      R"(/v2.4/policies/([A-Za-z0-9._-]{1,128}))",
      operator_only(
          [&appraiser](const http::Request& req, http::Response& res) {
            const std::string id = req.path_params[0];
            absl::StatusOr<int64_t> version = appraiser.PutPolicy(id, req.body);
            if (!version.ok()) return ReplyError(res, version.status());
            absl::StatusOr<Policy> policy = appraiser.LoadPolicy(id, *version);
            if (!policy.ok()) return ReplyError(res, policy.status());
            Reply(res, 200,
                  {{"id", id},
                   {"version", *version},
                   {"digest", absl::BytesToHexString(policy->digest)}});
          }));
  router.Get(R"(/v2.4/policies/([A-Za-z0-9._-]{1,128}))",
             [&appraiser](const http::Request& req, http::Response& res) {
               int64_t version = -1;
               if (req.HasQueryParam("version") &&
                   !absl::SimpleAtoi(req.QueryParam("version"), &version)) {
                 return ReplyError(res, absl::InvalidArgumentError(
                                            "version must be a number"));
               }
               absl::StatusOr<Policy> policy =
                   appraiser.LoadPolicy(req.path_params[0], version);
               if (!policy.ok()) return ReplyError(res, policy.status());
               Reply(res, 200,
                     {{"id", policy->id},
                      {"version", policy->version},
                      {"digest", absl::BytesToHexString(policy->digest)},
                      {"policy", policy->text}});
             });

  // What an auditor needs to replay a verdict: the evidence by digest, the
  // host's registered keys, and which log holds the verdicts.
  router.Get(R"(/v2.4/audit/evidence/([0-9a-fA-F]{64}))",
             [&appraiser](const http::Request& req, http::Response& res) {
               absl::StatusOr<std::string> evidence = appraiser.Evidence(
                   absl::HexStringToBytes(req.path_params[0]));
               if (!evidence.ok()) return ReplyError(res, evidence.status());
               Reply(res, 200, {{"evidence", *evidence}});
             });
  router.Get("/v2.4/audit/log",
             [&appraiser](const http::Request&, http::Response& res) {
               absl::StatusOr<int64_t> log_id = appraiser.RecordLogId();
               if (!log_id.ok()) return ReplyError(res, log_id.status());
               Reply(res, 200, {{"log_id", absl::StrCat(*log_id)}});
             });
  router.Get(
      R"(/v2.4/registrar/hosts/([A-Za-z0-9._-]{1,128}))",
      [&registrar](const http::Request& req, http::Response& res) {
        absl::StatusOr<trellis::HostRegistration> host =
            registrar.GetHost(req.path_params[0]);
        if (!host.ok()) return ReplyError(res, host.status());
        Reply(res, 200,
              {{"host_id", host->host_id()},
               {"ek_public", absl::Base64Escape(host->ek_public())},
               {"ek_certificate_verified", host->ek_certificate_verified()},
               {"ak_public", absl::Base64Escape(host->ak_public())},
               {"ak_name", absl::BytesToHexString(host->ak_name())},
               {"ak_qualified_name",
                absl::BytesToHexString(host->ak_qualified_name())},
               {"active", host->active()}});
      });

  router.Delete(R"(/v2.4/registrar/hosts/([A-Za-z0-9._-]{1,128}))",
                operator_only([&registrar](const http::Request& req,
                                           http::Response& res) {
                  if (absl::Status s = registrar.RemoveHost(req.path_params[0]);
                      !s.ok()) {
                    return ReplyError(res, s);
                  }
                  Reply(res, 200, {{"removed", req.path_params[0]}});
                }));

  router.Post("/v2.4/registrar/activate", [&registrar](const http::Request& req,
                                                       http::Response& res) {
    std::optional<json> body = Body(req, res);
    if (!body.has_value()) return;
    std::optional<std::string> host_id = Text(*body, "host_id", res);
    if (!host_id) return;
    std::optional<std::string> secret = Base64(*body, "secret", res);
    if (!secret) return;
    if (absl::Status s = registrar.Activate(*host_id, *secret); !s.ok()) {
      return ReplyError(res, s);
    }
    Reply(res, 200, {{"active", true}});
  });
}

}  // namespace trellis::attest
