#include "attest/host/registration.h"

#include "absl/strings/escaping.h"
#include "util/file.h"
#include "util/json_fields.h"

namespace trellis::attest::host {

using nlohmann::json;

absl::Status RegisterWithVerifier(HostAgent& agent,
                                  const VerifierEndpoint& verifier,
                                  const std::string& host_id) {
  absl::StatusOr<std::string> ek = ReadFile(agent.work_dir() + "/ek.pub");
  absl::StatusOr<std::string> ak = ReadFile(agent.work_dir() + "/ak.pub");
  if (!ek.ok() || !ak.ok()) {
    return absl::FailedPreconditionError(
        "no EK/AK in the work directory: run create-ek-ak first");
  }
  absl::StatusOr<std::unique_ptr<VerifierClient>> client =
      VerifierClient::Create(verifier);
  if (!client.ok()) return client.status();
  json request = {{"host_id", host_id},
                  {"ek_public", absl::Base64Escape(*ek)},
                  {"ak_public", absl::Base64Escape(*ak)}};
  if (absl::StatusOr<std::string> cert = agent.EkCertificate(); cert.ok()) {
    request["ek_certificate"] = absl::Base64Escape(*cert);
  }
  absl::StatusOr<json> challenge =
      (*client)->Post("/v2.4/registrar/register", request);
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
  return (*client)
      ->Post("/v2.4/registrar/activate",
             {{"host_id", host_id}, {"secret", absl::Base64Escape(*secret)}})
      .status();
}

}  // namespace trellis::attest::host
