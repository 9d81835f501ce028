#include "attest/spire_tpm/messages.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "util/json_fields.h"

namespace trellis::attest::spire_tpm {
namespace {

using nlohmann::json;

absl::StatusOr<json> ParseMessage(absl::string_view text, const char* what) {
  if (text.size() > kMaxMessageBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, " is larger than ", kMaxMessageBytes, " bytes"));
  }
  absl::StatusOr<json> parsed = json_fields::ParseObject(text);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": ", parsed.status().message()));
  }
  return parsed;
}

// The JSON object member `name`, INVALID_ARGUMENT if absent or not one.
absl::StatusOr<const json*> Object(const json& parent, const char* name) {
  const json* member = json_fields::Find(parent, name);
  if (member == nullptr || !member->is_object()) {
    return absl::InvalidArgumentError(
        absl::StrCat("missing object \"", name, "\""));
  }
  return member;
}

}  // namespace

std::string EncodePayload(const AttestationPayload& payload) {
  const json message = {
      {"EK", absl::Base64Escape(payload.ek_pem)},
      {"AK",
       {{"Public", absl::Base64Escape(payload.ak_public)},
        {"UseTCSDActivationFormat", false},
        {"CreateData", absl::Base64Escape(payload.create_data)},
        {"CreateAttestation", absl::Base64Escape(payload.create_attestation)},
        {"CreateSignature", absl::Base64Escape(payload.create_signature)}}}};
  return message.dump();
}

absl::StatusOr<AttestationPayload> DecodePayload(absl::string_view text) {
  absl::StatusOr<json> message = ParseMessage(text, "tpm attestation data");
  if (!message.ok()) return message.status();
  AttestationPayload payload;
  absl::StatusOr<std::string> ek = json_fields::Base64(*message, "EK");
  if (!ek.ok()) return ek.status();
  payload.ek_pem = std::move(*ek);
  absl::StatusOr<const json*> ak = Object(*message, "AK");
  if (!ak.ok()) return ak.status();
  absl::StatusOr<std::optional<bool>> tpm12 =
      json_fields::OptionalBool(**ak, "UseTCSDActivationFormat");
  if (!tpm12.ok()) return tpm12.status();
  if (tpm12->value_or(false)) {
    return absl::InvalidArgumentError("TPM 1.2 attestation is not supported");
  }
  for (auto [name, field] :
       {std::pair{"Public", &payload.ak_public},
        std::pair{"CreateData", &payload.create_data},
        std::pair{"CreateAttestation", &payload.create_attestation},
        std::pair{"CreateSignature", &payload.create_signature}}) {
    absl::StatusOr<std::string> bytes = json_fields::Base64(**ak, name);
    if (!bytes.ok()) return bytes.status();
    *field = std::move(*bytes);
  }
  return payload;
}

std::string EncodeChallenge(const EncryptedCredential& challenge) {
  const json message = {
      {"EC",
       {{"Credential", absl::Base64Escape(challenge.credential)},
        {"Secret", absl::Base64Escape(challenge.secret)}}}};
  return message.dump();
}

absl::StatusOr<EncryptedCredential> DecodeChallenge(absl::string_view text) {
  absl::StatusOr<json> message = ParseMessage(text, "tpm challenge");
  if (!message.ok()) return message.status();
  absl::StatusOr<const json*> ec = Object(*message, "EC");
  if (!ec.ok()) return ec.status();
  EncryptedCredential challenge;
  absl::StatusOr<std::string> credential =
      json_fields::Base64(**ec, "Credential");
  if (!credential.ok()) return credential.status();
  absl::StatusOr<std::string> secret = json_fields::Base64(**ec, "Secret");
  if (!secret.ok()) return secret.status();
  challenge.credential = std::move(*credential);
  challenge.secret = std::move(*secret);
  return challenge;
}

std::string EncodeChallengeResponse(absl::string_view secret) {
  return json{{"Secret", absl::Base64Escape(secret)}}.dump();
}

absl::StatusOr<std::string> DecodeChallengeResponse(absl::string_view text) {
  absl::StatusOr<json> message = ParseMessage(text, "tpm challenge response");
  if (!message.ok()) return message.status();
  return json_fields::Base64(*message, "Secret");
}

}  // namespace trellis::attest::spire_tpm
