#include "gta/client/service_client.h"

#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "util/json_fields.h"

namespace trellis::gta::client {
namespace {

using nlohmann::ordered_json;

constexpr char kServicePrefix[] = "/global-trust-authority/service/v1";

absl::Status FromHttp(int status, absl::string_view message) {
  const std::string text = absl::StrCat("GTA service: ", message);
  switch (status) {
    case 400:
    case 413:  // The body (the evidence) is too large.
      return absl::InvalidArgumentError(text);
    case 401:
      return absl::UnauthenticatedError(text);
    case 404:
      return absl::NotFoundError(text);
    case 429:
      return absl::ResourceExhaustedError(text);
    default:
      return absl::UnavailableError(absl::StrCat(text, " (HTTP ", status, ")"));
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServiceClient>> ServiceClient::Create(
    const http::HttpsEndpoint& endpoint, ServiceAccount account) {
  absl::StatusOr<std::unique_ptr<httplib::SSLClient>> client =
      http::NewHttpsClient(endpoint);
  if (!client.ok()) return client.status();
  return std::unique_ptr<ServiceClient>(
      new ServiceClient(std::move(*client), std::move(account)));
}

ServiceClient::ServiceClient(std::unique_ptr<httplib::SSLClient> client,
                             ServiceAccount account)
    : client_(std::move(client)), account_(std::move(account)) {}

ServiceClient::~ServiceClient() = default;

absl::StatusOr<ordered_json> ServiceClient::Call(const std::string& method,
                                                 const std::string& path,
                                                 const std::string& body) {
  httplib::Headers headers;
  if (!account_.user_id.empty()) {
    headers.emplace("User-Id", account_.user_id);
  }
  if (!account_.api_key.empty()) {
    headers.emplace("API-Key", account_.api_key);
  }
  const std::string url = absl::StrCat(kServicePrefix, path);
  constexpr char kJson[] = "application/json";
  if (method != "GET" && method != "POST" && method != "PUT" &&
      method != "DELETE") {
    return absl::InvalidArgumentError(absl::StrCat("no method ", method));
  }
  httplib::Result res =
      method == "GET"    ? client_->Get(url, headers)
      : method == "POST" ? client_->Post(url, headers, body, kJson)
      : method == "PUT"  ? client_->Put(url, headers, body, kJson)
                         : client_->Delete(url, headers, body, kJson);
  if (!res) {
    return absl::UnavailableError(absl::StrCat(
        "cannot reach the GTA service: ", httplib::to_string(res.error())));
  }
  if (res->status == 200 && res->body.empty()) return ordered_json::object();
  if (json_fields::TooDeep(res->body)) {
    return absl::UnavailableError("the GTA service's reply nests too deeply");
  }
  ordered_json reply =
      ordered_json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status != 200) {
    std::string message = "no message";
    if (reply.is_object()) {
      auto found = reply.find("message");
      if (found != reply.end() && found->is_string()) {
        message = found->get<std::string>();
      }
    }
    return FromHttp(res->status, message);
  }
  if (!reply.is_object()) {
    return absl::UnavailableError("the GTA service's reply is not JSON");
  }
  return reply;
}

absl::StatusOr<ordered_json> ServiceClient::Challenge(
    const std::vector<std::string>& attester_types) {
  absl::StatusOr<ordered_json> reply =
      Call("POST", "/challenge",
           ordered_json{{"attester_type", attester_types}}.dump());
  if (!reply.ok()) return reply.status();
  auto nonce = reply->find("nonce");
  if (nonce == reply->end() || !(nonce->is_object() || nonce->is_string())) {
    return absl::UnavailableError("the GTA service's challenge has no nonce");
  }
  return *nonce;
}

absl::StatusOr<std::string> ServiceClient::Attest(const std::string& body) {
  absl::StatusOr<ordered_json> reply = Call("POST", "/attest", body);
  if (!reply.ok()) return reply.status();
  auto tokens = reply->find("tokens");
  if (tokens == reply->end() || !tokens->is_array() || tokens->empty() ||
      !tokens->front().is_object()) {
    return absl::UnavailableError("the GTA service's reply has no token");
  }
  auto token = tokens->front().find("token");
  if (token == tokens->front().end() || !token->is_string()) {
    return absl::UnavailableError("the GTA service's reply has no token");
  }
  return token->get<std::string>();
}

}  // namespace trellis::gta::client
