#include "gta/agent/agent_http.h"

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace trellis::gta::agent {
namespace {

constexpr char kPrefix[] = "/global-trust-authority/agent/v1";

int HttpCode(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
      return 400;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnavailable:
      return 502;  // The service behind the agent.
    default:
      return 500;
  }
}

void Fail(http::Response& res, const absl::Status& status) {
  res.status = HttpCode(status);
  res.body = nlohmann::json{{"message", res.status == 500
                                            ? std::string("internal error")
                                            : std::string(status.message())}}
                 .dump();
}

}  // namespace

void RegisterAgentRoutes(http::Router& router, const GtaAgent& agent) {
  router.Post(absl::StrCat(kPrefix, "/tokens"),
              [&agent](const http::Request& req, http::Response& res) {
                absl::StatusOr<std::string> token = agent.Token(req.body);
                if (!token.ok()) return Fail(res, token.status());
                res.body = nlohmann::json{{"token", *token}}.dump();
              });
  router.Post(absl::StrCat(kPrefix, "/evidences"),
              [&agent](const http::Request& req, http::Response& res) {
                absl::StatusOr<std::string> body = agent.Evidences(req.body);
                if (!body.ok()) return Fail(res, body.status());
                res.body = *std::move(body);
              });
}

}  // namespace trellis::gta::agent
