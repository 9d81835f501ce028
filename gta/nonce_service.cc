#include "gta/nonce_service.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "crypto/random.h"
#include "crypto/rsa_pss.h"

namespace trellis::gta {
namespace {

constexpr size_t kValueBytes = 64;
constexpr char kInvalid[] = "Invalid nonce.";
// Clock skew tolerated for an iat in the future.
constexpr absl::Duration kSkew = absl::Seconds(5);

}  // namespace

std::string NonceSigningInput(int64_t iat, const std::string& value_base64) {
  return absl::StrCat(iat, value_base64);
}

NonceService::NonceService(KeyRing* keys, absl::Duration validity, Clock clock)
    : keys_(keys),
      validity_(validity),
      clock_(std::move(clock)),
      started_(absl::FromUnixSeconds(absl::ToUnixSeconds(clock_()))) {}

absl::StatusOr<nlohmann::json> NonceService::Issue() {
  const int64_t iat = absl::ToUnixSeconds(clock_());
  const std::string value =
      absl::Base64Escape(crypto::RandomBytes(kValueBytes));
  absl::StatusOr<SigningKey> nsk = keys_->Current(kNonceKey);
  if (!nsk.ok()) return nsk.status();
  absl::StatusOr<std::string> signature = crypto::SignRsaPss(
      *nsk->key, crypto::PssHash::kSha256, NonceSigningInput(iat, value));
  if (!signature.ok()) return signature.status();
  return nlohmann::json{{"iat", iat},
                        {"value", value},
                        {"signature", absl::Base64Escape(*signature)}};
}

absl::Status NonceService::Consume(const std::string& json_text) {
  const nlohmann::json nonce =
      nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!nonce.is_object()) return absl::InvalidArgumentError(kInvalid);
  const auto iat = nonce.find("iat");
  const auto value = nonce.find("value");
  const auto signature = nonce.find("signature");
  std::string value_bytes, signature_bytes;
  if (iat == nonce.end() || !iat->is_number_integer() || value == nonce.end() ||
      !value->is_string() || signature == nonce.end() ||
      !signature->is_string() ||
      !absl::Base64Unescape(value->get<std::string>(), &value_bytes) ||
      value_bytes.size() != kValueBytes ||
      !absl::Base64Unescape(signature->get<std::string>(), &signature_bytes)) {
    return absl::InvalidArgumentError(kInvalid);
  }
  const std::string input =
      NonceSigningInput(iat->get<int64_t>(), value->get<std::string>());
  bool verified = false;
  for (const SigningKey& key : keys_->Verifying(kNonceKey)) {
    if (crypto::VerifyRsaPss(*key.key, crypto::PssHash::kSha256, input,
                             signature_bytes)
            .ok()) {
      verified = true;
      break;
    }
  }
  if (!verified) return absl::InvalidArgumentError(kInvalid);
  const absl::Time issued = absl::FromUnixSeconds(iat->get<int64_t>());
  const absl::Time now = clock_();
  if (issued < started_ || issued > now + kSkew) {
    return absl::InvalidArgumentError(kInvalid);
  }
  if (now - issued > validity_) {
    return absl::InvalidArgumentError("Nonce expired.");
  }
  absl::MutexLock lock(&mu_);
  // Forget values that could no longer be accepted anyway (a scan, so at
  // most once a second).
  if (now - last_prune_ >= absl::Seconds(1)) {
    absl::erase_if(used_,
                   [now](const auto& entry) { return entry.second < now; });
    last_prune_ = now;
  }
  if (!used_.emplace(value_bytes, issued + validity_ + kSkew).second) {
    return absl::InvalidArgumentError(kInvalid);
  }
  return absl::OkStatus();
}

}  // namespace trellis::gta
