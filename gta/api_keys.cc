#include "gta/api_keys.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "absl/strings/str_cat.h"
#include "crypto/digest.h"
#include "crypto/random.h"
#include "gta/policy_manager.h"

namespace trellis::gta {
namespace {

constexpr int kIterations = 10000;
constexpr size_t kSaltBytes = 16;
constexpr size_t kKeyChars = 32;
constexpr char kAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// Bound on remembered verifications (one per active user).
constexpr size_t kMaxRemembered = 100000;

std::string SettingName(const std::string& user_id) {
  return absl::StrCat("apikey/", user_id);
}

std::string NewKey() {
  const std::string random = crypto::RandomBytes(kKeyChars * 2);
  std::string key;
  // Rejection sampling keeps the 62 symbols uniform.
  for (unsigned char byte : random) {
    if (byte < 248 && key.size() < kKeyChars)
      key.push_back(kAlphabet[byte % 62]);
  }
  while (key.size() < kKeyChars) {
    const unsigned char byte = crypto::RandomBytes(1)[0];
    if (byte < 248) key.push_back(kAlphabet[byte % 62]);
  }
  return key;
}

std::string Pbkdf2(const std::string& key, const std::string& salt) {
  std::string out(32, '\0');
  PKCS5_PBKDF2_HMAC(key.data(), static_cast<int>(key.size()),
                    reinterpret_cast<const unsigned char*>(salt.data()),
                    static_cast<int>(salt.size()), kIterations, EVP_sha256(),
                    static_cast<int>(out.size()),
                    reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

bool ConstantTimeEqual(const std::string& a, const std::string& b) {
  return a.size() == b.size() &&
         CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::Status Unauthenticated() {
  return absl::UnauthenticatedError("User-Id or API-Key is not valid");
}

}  // namespace

absl::Status ApiKeyManager::Store(const std::string& user_id,
                                  const std::string& api_key) {
  const std::string salt = crypto::RandomBytes(kSaltBytes);
  if (absl::Status s = storage_->PutSetting(SettingName(user_id),
                                            salt + Pbkdf2(api_key, salt));
      !s.ok()) {
    return s;
  }
  // After the write: a verification of the old key that read the store
  // before it either finds a new generation or is erased here.
  absl::MutexLock lock(&mu_);
  ++generation_;
  verified_.erase(user_id);
  return absl::OkStatus();
}

absl::StatusOr<ApiCredentials> ApiKeyManager::Register() {
  ApiCredentials credentials{crypto::RandomUuid(), NewKey()};
  if (absl::Status s = Store(credentials.user_id, credentials.api_key);
      !s.ok()) {
    return s;
  }
  return credentials;
}

absl::StatusOr<ApiCredentials> ApiKeyManager::Rotate(
    const std::string& user_id, const std::string& api_key) {
  if (absl::Status s = Authenticate(user_id, api_key); !s.ok()) return s;
  ApiCredentials credentials{user_id, NewKey()};
  if (absl::Status s = Store(user_id, credentials.api_key); !s.ok()) return s;
  return credentials;
}

absl::Status ApiKeyManager::Authenticate(const std::string& user_id,
                                         const std::string& api_key) {
  if (!ValidateUserId(user_id).ok() || api_key.empty() ||
      api_key.size() > 256) {
    return Unauthenticated();
  }
  const std::string digest =
      crypto::Digest(crypto::DigestAlgorithm::kSha256, {api_key});
  uint64_t generation;
  {
    absl::MutexLock lock(&mu_);
    auto it = verified_.find(user_id);
    if (it != verified_.end() && ConstantTimeEqual(it->second.digest, digest)) {
      return absl::OkStatus();
    }
    generation = generation_;
  }
  // Not remembered (or another key): the stored hash decides.
  absl::StatusOr<std::optional<std::string>> stored =
      storage_->GetSetting(SettingName(user_id));
  if (!stored.ok()) return stored.status();
  if (!stored->has_value() || (*stored)->size() != kSaltBytes + 32) {
    return Unauthenticated();
  }
  const std::string salt = (*stored)->substr(0, kSaltBytes);
  if (!ConstantTimeEqual(Pbkdf2(api_key, salt),
                         (*stored)->substr(kSaltBytes))) {
    return Unauthenticated();
  }
  absl::MutexLock lock(&mu_);
  if (generation == generation_) {
    if (verified_.size() >= kMaxRemembered) verified_.clear();
    verified_[user_id] = {digest, generation};
  }
  return absl::OkStatus();
}

}  // namespace trellis::gta
