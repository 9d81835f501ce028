#include "attest/host/agent_http.h"

#include "absl/status/status.h"
#include "nlohmann/json.hpp"
#include "util/json_fields.h"

namespace trellis::attest::host {
namespace {

using nlohmann::json;

int HttpStatus(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return 400;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    default:
      return 500;
  }
}

void Reply(http::Response& res, int status, const json& body) {
  res.status = status;
  res.body = body.dump();
}

// The request body as a JSON object, or an error reply.
bool ParseBody(const http::Request& req, http::Response& res, json& body,
               const char* error_key) {
  body = json::parse(req.body.empty() ? "{}" : req.body, nullptr,
                     /*allow_exceptions=*/false);
  if (!body.is_object()) {
    Reply(res, 400,
          {{error_key, "ERROR"}, {"error", "body must be a JSON object"}});
    return false;
  }
  return true;
}

std::string StringField(const json& body, const char* name) {
  absl::StatusOr<std::optional<std::string>> value =
      json_fields::OptionalString(body, name);
  return value.ok() ? value->value_or("") : "";
}

}  // namespace

void RegisterAgentRoutes(http::Router& router, HostAgent& agent,
                         const AgentHttpOptions& options) {
  router.Post(
      "/v2.2/delegated_certification/certify_app_key",
      [&agent, options](const http::Request& req, http::Response& res) {
        auto error = [&](int status, const std::string& message) {
          Reply(res, status, {{"result", "ERROR"}, {"error", message}});
        };
        if (!options.delegated_certification) {
          return error(403, "delegated certification is disabled");
        }
        json body;
        if (!ParseBody(req, res, body, "result")) return;
        if (StringField(body, "command") != "certify_app_key") {
          return error(400, "command must be \"certify_app_key\"");
        }
        const std::string pem = StringField(body, "app_key_public");
        const std::string context = StringField(body, "app_key_context_path");
        if (pem.empty() || context.empty()) {
          return error(400,
                       "app_key_public and app_key_context_path are required");
        }
        absl::StatusOr<std::string> cert = agent.CertifyAppKey(
            context, pem, StringField(body, "challenge_nonce"));
        if (!cert.ok()) {
          return error(HttpStatus(cert.status()),
                       std::string(cert.status().message()));
        }
        Reply(res, 200,
              {{"result", "SUCCESS"}, {"app_key_certificate", *cert}});
      });

  router.Post("/generate-app-key", [&agent](const http::Request& req,
                                            http::Response& res) {
    json body;
    if (!ParseBody(req, res, body, "status")) return;
    const std::string work_dir = StringField(body, "work_dir");
    if (!work_dir.empty() && work_dir != agent.work_dir()) {
      return Reply(res, 400,
                   {{"status", "error"},
                    {"error", "work_dir differs from the agent's"}});
    }
    absl::StatusOr<json> key = agent.GenerateAppKey();
    if (!key.ok()) {
      return Reply(res, HttpStatus(key.status()),
                   {{"status", "error"},
                    {"error", std::string(key.status().message())}});
    }
    Reply(res, 200, *key);
  });

  router.Post("/generate-quote", [&agent, options](const http::Request& req,
                                                   http::Response& res) {
    json body;
    if (!ParseBody(req, res, body, "status")) return;
    std::string pcrs = StringField(body, "pcrs");
    if (pcrs.empty()) pcrs = options.default_pcrs;
    absl::StatusOr<std::string> quote =
        agent.GenerateQuote(StringField(body, "nonce"), pcrs);
    if (!quote.ok()) {
      return Reply(res, HttpStatus(quote.status()),
                   {{"status", "error"},
                    {"error", std::string(quote.status().message())}});
    }
    Reply(res, 200, {{"status", "success"}, {"quote", *quote}});
  });
}

}  // namespace trellis::attest::host
