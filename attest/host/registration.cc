#include "attest/host/registration.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "httplib.h"
#include "nlohmann/json.hpp"
#include "util/file.h"

namespace trellis::attest::host {
namespace {

using nlohmann::json;

absl::StatusOr<std::unique_ptr<httplib::SSLClient>> Connect(
    const VerifierEndpoint& verifier) {
  absl::string_view rest = verifier.url;
  if (!absl::ConsumePrefix(&rest, "https://")) {
    return absl::InvalidArgumentError("verifier URL must be https://HOST:PORT");
  }
  const size_t colon = rest.rfind(':');
  int port = 0;
  if (colon == absl::string_view::npos ||
      !absl::SimpleAtoi(rest.substr(colon + 1), &port)) {
    return absl::InvalidArgumentError("verifier URL must be https://HOST:PORT");
  }
  auto client = std::make_unique<httplib::SSLClient>(
      std::string(rest.substr(0, colon)), port, verifier.client_cert_file,
      verifier.client_key_file);
  if (!verifier.ca_file.empty()) {
    client->set_ca_cert_path(verifier.ca_file.c_str());
  }
  client->enable_server_certificate_verification(true);
  client->set_connection_timeout(10);
  client->set_read_timeout(60);
  return client;
}

absl::StatusOr<json> Post(httplib::SSLClient& client, const std::string& path,
                          const json& body) {
  httplib::Result res = client.Post(path, body.dump(), "application/json");
  if (!res) {
    return absl::UnavailableError(absl::StrCat(
        "cannot reach the verifier: ", httplib::to_string(res.error())));
  }
  json reply = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  if (res->status != 200) {
    const std::string why = reply.is_object() && reply.contains("error")
                                ? reply["error"].get<std::string>()
                                : res->body;
    return absl::FailedPreconditionError(
        absl::StrCat("verifier answered ", res->status, ": ", why));
  }
  if (!reply.is_object() || !reply.contains("results")) {
    return absl::InternalError("verifier reply is not a Keylime envelope");
  }
  return reply["results"];
}

}  // namespace

absl::Status RegisterWithVerifier(HostAgent& agent,
                                  const VerifierEndpoint& verifier,
                                  const std::string& host_id) {
  absl::StatusOr<std::string> ek = ReadFile(agent.work_dir() + "/ek.pub");
  absl::StatusOr<std::string> ak = ReadFile(agent.work_dir() + "/ak.pub");
  if (!ek.ok() || !ak.ok()) {
    return absl::FailedPreconditionError(
        "no EK/AK in the work directory: run create-ek-ak first");
  }
  absl::StatusOr<std::unique_ptr<httplib::SSLClient>> client =
      Connect(verifier);
  if (!client.ok()) return client.status();
  json request = {{"host_id", host_id},
                  {"ek_public", absl::Base64Escape(*ek)},
                  {"ak_public", absl::Base64Escape(*ak)}};
  if (absl::StatusOr<std::string> cert = agent.EkCertificate(); cert.ok()) {
    request["ek_certificate"] = absl::Base64Escape(*cert);
  }
  absl::StatusOr<json> challenge =
      Post(**client, "/v2.4/registrar/register", request);
  if (!challenge.ok()) return challenge.status();
  if (!challenge->contains("credential") || !challenge->contains("secret")) {
    return absl::InternalError("registrar sent no credential");
  }
  absl::StatusOr<std::string> secret =
      agent.ActivateCredential((*challenge)["credential"].get<std::string>(),
                               (*challenge)["secret"].get<std::string>());
  if (!secret.ok()) return secret.status();
  return Post(**client, "/v2.4/registrar/activate",
              {{"host_id", host_id}, {"secret", absl::Base64Escape(*secret)}})
      .status();
}

}  // namespace trellis::attest::host
