#include "attest/api/verifier_client.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "httplib.h"
#include "util/json_fields.h"

namespace trellis::attest {
namespace {

using nlohmann::json;

absl::StatusOr<json> Results(const httplib::Result& res) {
  if (!res) {
    return absl::UnavailableError(absl::StrCat(
        "cannot reach the verifier: ", httplib::to_string(res.error())));
  }
  json reply = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  // A full worker queue (503) or a gateway that cannot reach the verifier
  // says nothing about the request: retry later, like a refused connection.
  if (res->status == 502 || res->status == 503 || res->status == 504) {
    return absl::UnavailableError(
        absl::StrCat("the verifier is unavailable (HTTP ", res->status, ")"));
  }
  if (res->status != 200) {
    absl::StatusOr<std::string> why = json_fields::String(reply, "error");
    return absl::FailedPreconditionError(absl::StrCat(
        "verifier answered ", res->status, ": ", why.ok() ? *why : res->body));
  }
  const json* results = json_fields::Find(reply, "results");
  if (results == nullptr) {
    return absl::InternalError("verifier reply is not a Keylime envelope");
  }
  return *results;
}

}  // namespace

absl::StatusOr<std::unique_ptr<VerifierClient>> VerifierClient::Create(
    const VerifierEndpoint& endpoint) {
  absl::string_view rest = endpoint.url;
  const bool https = absl::ConsumePrefix(&rest, "https://");
  const size_t colon = rest.rfind(':');
  int port = 0;
  if (!https || colon == absl::string_view::npos || colon == 0 ||
      !absl::SimpleAtoi(rest.substr(colon + 1), &port) || port <= 0) {
    return absl::InvalidArgumentError("verifier URL must be https://HOST:PORT");
  }
  auto client = std::make_unique<httplib::SSLClient>(
      std::string(rest.substr(0, colon)), port, endpoint.client_cert_file,
      endpoint.client_key_file);
  if (!endpoint.ca_file.empty()) {
    client->set_ca_cert_path(endpoint.ca_file.c_str());
  }
  client->enable_server_certificate_verification(true);
  client->set_connection_timeout(10);
  client->set_read_timeout(60);
  return std::unique_ptr<VerifierClient>(new VerifierClient(std::move(client)));
}

VerifierClient::VerifierClient(std::unique_ptr<httplib::SSLClient> client)
    : client_(std::move(client)) {}

VerifierClient::~VerifierClient() = default;

absl::StatusOr<json> VerifierClient::Post(const std::string& path,
                                          const json& body) {
  return Results(client_->Post(path, body.dump(), "application/json"));
}

absl::StatusOr<json> VerifierClient::Get(const std::string& path) {
  return Results(client_->Get(path));
}

}  // namespace trellis::attest
