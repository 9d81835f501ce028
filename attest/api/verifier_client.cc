#include "attest/api/verifier_client.h"

#include "absl/strings/str_cat.h"
#include "httplib.h"
#include "util/json_fields.h"

namespace trellis::attest {
namespace {

using nlohmann::json;

// A body as JSON text; bytes that are not UTF-8 (an IMA list names files
// as the kernel found them) become U+FFFD rather than an exception.
std::string Text(const json& body) {
  return body.dump(-1, ' ', false, json::error_handler_t::replace);
}

absl::StatusOr<VerifierClient::Reply> ReplyOf(const httplib::Result& res) {
  if (!res) {
    return absl::UnavailableError(absl::StrCat(
        "cannot reach the verifier: ", httplib::to_string(res.error())));
  }
  // A full worker queue (503) or a gateway that cannot reach the verifier
  // says nothing about the request: retry later, like a refused connection.
  if (res->status == 502 || res->status == 503 || res->status == 504) {
    return absl::UnavailableError(
        absl::StrCat("the verifier is unavailable (HTTP ", res->status, ")"));
  }
  const json envelope =
      json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  VerifierClient::Reply reply;
  reply.status = res->status;
  if (const json* results = json_fields::Find(envelope, "results")) {
    reply.results = *results;
  }
  absl::StatusOr<std::string> error = json_fields::String(envelope, "error");
  reply.error = error.ok() ? *error : "";
  if (reply.status != 200 && reply.error.empty()) reply.error = res->body;
  return reply;
}

absl::StatusOr<json> Results(const httplib::Result& res) {
  absl::StatusOr<VerifierClient::Reply> reply = ReplyOf(res);
  if (!reply.ok()) return reply.status();
  if (reply->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat("verifier answered ", reply->status, ": ", reply->error));
  }
  if (reply->results.is_null()) {
    return absl::InternalError("verifier reply is not a Keylime envelope");
  }
  return std::move(reply->results);
}

}  // namespace

absl::StatusOr<std::unique_ptr<VerifierClient>> VerifierClient::Create(
    const VerifierEndpoint& endpoint) {
  absl::StatusOr<std::unique_ptr<httplib::SSLClient>> client =
      http::NewHttpsClient(endpoint);
  if (!client.ok()) return client.status();
  return std::unique_ptr<VerifierClient>(
      new VerifierClient(std::move(*client)));
}

VerifierClient::VerifierClient(std::unique_ptr<httplib::SSLClient> client)
    : client_(std::move(client)) {}

VerifierClient::~VerifierClient() = default;

absl::StatusOr<json> VerifierClient::Post(const std::string& path,
                                          const json& body) {
  return Results(client_->Post(path, Text(body), "application/json"));
}

absl::StatusOr<json> VerifierClient::Get(const std::string& path) {
  return Results(client_->Get(path));
}

absl::StatusOr<VerifierClient::Reply> VerifierClient::Exchange(
    const std::string& path, const json& body) {
  return ReplyOf(client_->Post(path, Text(body), "application/json"));
}

}  // namespace trellis::attest
