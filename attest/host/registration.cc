#include "attest/host/registration.h"

#include "absl/strings/escaping.h"
#include "util/json_fields.h"

namespace trellis::attest::host {

using nlohmann::json;

absl::Status RegisterWithVerifier(HostAgent& agent,
                                  const VerifierEndpoint& verifier,
                                  const std::string& host_id) {
  absl::StatusOr<std::unique_ptr<VerifierClient>> client =
      VerifierClient::Create(verifier);
  if (!client.ok()) return client.status();
  return RegisterWithVerifier(agent, **client, host_id);
}

absl::Status RegisterWithVerifier(HostAgent& agent, VerifierClient& client,
                                  const std::string& host_id) {
  absl::StatusOr<HostAgent::PublicKeys> keys = agent.StoredPublicKeys();
  if (!keys.ok()) return keys.status();
  json request = {{"host_id", host_id},
                  {"ek_public", absl::Base64Escape(keys->ek)},
                  {"ak_public", absl::Base64Escape(keys->ak)}};
  if (absl::StatusOr<std::string> cert = agent.EkCertificate(); cert.ok()) {
    request["ek_certificate"] = absl::Base64Escape(*cert);
  }
  absl::StatusOr<json> challenge =
      client.Post("/v2.4/registrar/register", request);
  if (!challenge.ok()) return challenge.status();
  absl::StatusOr<std::string> credential =
      json_fields::String(*challenge, "credential");
  absl::StatusOr<std::string> encrypted_secret =
      json_fields::String(*challenge, "secret");
  if (!credential.ok() || !encrypted_secret.ok()) {
    return absl::InternalError("registrar sent no credential");
  }
  absl::StatusOr<std::string> secret =
      agent.ActivateCredential(*credential, *encrypted_secret);
  if (!secret.ok()) return secret.status();
  return client
      .Post("/v2.4/registrar/activate",
            {{"host_id", host_id}, {"secret", absl::Base64Escape(*secret)}})
      .status();
}

}  // namespace trellis::attest::host
