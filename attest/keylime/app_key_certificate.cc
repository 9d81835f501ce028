#include "attest/keylime/app_key_certificate.h"

#include "absl/strings/escaping.h"
#include "nlohmann/json.hpp"

namespace trellis::attest::keylime {

using nlohmann::json;

std::string EncodeAppKeyCertificate(const AppKeyCertificate& cert) {
  const json j = {
      {"app_key_public", cert.app_key_public},
      {"app_key_tpm_public", absl::Base64Escape(cert.app_key_tpm_public)},
      {"certify_data", absl::Base64Escape(cert.certify_data)},
      {"signature", absl::Base64Escape(cert.signature)},
      {"hash_alg", cert.hash_alg},
      {"format", "phase2_compatible"},
  };
  return absl::Base64Escape(j.dump());
}

absl::StatusOr<AppKeyCertificate> DecodeAppKeyCertificate(
    absl::string_view base64) {
  std::string text;
  if (!absl::Base64Unescape(base64, &text)) {
    return absl::InvalidArgumentError("app key certificate is not base64");
  }
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) {
    return absl::InvalidArgumentError("app key certificate is not JSON");
  }
  AppKeyCertificate cert;
  auto text_field = [&](const char* name, std::string& out) {
    auto it = j.find(name);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  auto binary_field = [&](const char* name, std::string& out) {
    std::string b64;
    return text_field(name, b64) && absl::Base64Unescape(b64, &out);
  };
  if (!text_field("app_key_public", cert.app_key_public) ||
      !binary_field("certify_data", cert.certify_data) ||
      !binary_field("signature", cert.signature)) {
    return absl::InvalidArgumentError(
        "app key certificate needs app_key_public, certify_data and "
        "signature");
  }
  text_field("hash_alg", cert.hash_alg);
  binary_field("app_key_tpm_public", cert.app_key_tpm_public);
  return cert;
}

}  // namespace trellis::attest::keylime
