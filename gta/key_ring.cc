#include "gta/key_ring.h"

#include "absl/strings/str_cat.h"

namespace trellis::gta {
namespace {

bool KnownName(const std::string& name) {
  return name == kNonceKey || name == kTokenKey || name == kRecordKey;
}

std::string WrapId(const std::string& name, uint32_t version) {
  return absl::StrCat("gta/", name, "/", version);
}

}  // namespace

std::string SigningKey::key_id() const {
  return absl::StrCat(name, "-v", version);
}

absl::StatusOr<std::unique_ptr<KeyRing>> KeyRing::Open(
    storage::GtaStorage* storage, crypto::KeyWrapping wrapping,
    absl::Duration overlap, Clock clock, TokenKeyShape token_key) {
  if (token_key.bits != 2048 && token_key.bits != 3072 &&
      token_key.bits != 4096) {
    return absl::InvalidArgumentError(
        "token keys must be RSA 2048, 3072 or 4096");
  }
  if (token_key.primes != 2 && token_key.primes != 3) {
    return absl::InvalidArgumentError("token keys have 2 or 3 primes");
  }
  auto ring = std::unique_ptr<KeyRing>(new KeyRing(
      storage, std::move(wrapping), overlap, std::move(clock), token_key));
  absl::StatusOr<std::vector<trellis::GtaKey>> stored = storage->ListKeys();
  if (!stored.ok()) return stored.status();
  absl::MutexLock lock(&ring->mu_);
  for (const trellis::GtaKey& key : *stored) {
    absl::StatusOr<SigningKey> loaded = ring->Load(key);
    if (!loaded.ok()) return loaded.status();
    ring->keys_[key.name()].push_back(std::move(*loaded));
  }
  return ring;
}

absl::StatusOr<SigningKey> KeyRing::Load(const trellis::GtaKey& stored) const {
  absl::StatusOr<std::string> der = wrapping_.unwrap(
      WrapId(stored.name(), stored.version()), stored.wrapped_key());
  if (!der.ok()) return der.status();
  absl::StatusOr<crypto::PrivateKey> key = crypto::ParsePrivateKey(*der);
  if (!key.ok()) return key.status();
  SigningKey out;
  out.name = stored.name();
  out.version = stored.version();
  out.key = std::shared_ptr<const EVP_PKEY>(key->release(), EVP_PKEY_free);
  out.created_at = absl::FromUnixSeconds(stored.created_at());
  return out;
}

absl::StatusOr<SigningKey> KeyRing::Make(const std::string& name,
                                         uint32_t version) {
  absl::StatusOr<crypto::PrivateKey> key =
      name == kTokenKey
          ? crypto::GenerateRsaKey(token_key_.bits, token_key_.primes)
          : crypto::GenerateRsaKey(kDefaultKeyBits, 2);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> der = crypto::MarshalPrivateKey(**key);
  if (!der.ok()) return der.status();
  absl::StatusOr<std::string> wrapped =
      wrapping_.wrap(WrapId(name, version), *der);
  if (!wrapped.ok()) return wrapped.status();
  trellis::GtaKey stored;
  stored.set_name(name);
  stored.set_version(version);
  stored.set_wrapped_key(std::move(*wrapped));
  stored.set_created_at(absl::ToUnixSeconds(clock_()));
  if (absl::Status s = storage_->AddKey(stored); !s.ok()) return s;
  SigningKey out;
  out.name = name;
  out.version = version;
  out.key = std::shared_ptr<const EVP_PKEY>(key->release(), EVP_PKEY_free);
  out.created_at = absl::FromUnixSeconds(stored.created_at());
  return out;
}

absl::StatusOr<SigningKey> KeyRing::Current(const std::string& name) {
  if (!KnownName(name)) {
    return absl::InvalidArgumentError("key name must be NSK, TSK or FSK");
  }
  {
    absl::MutexLock lock(&mu_);
    const std::vector<SigningKey>& versions = keys_[name];
    if (!versions.empty()) return versions.back();
  }
  return Add(name, /*version_after=*/0);
}

absl::StatusOr<SigningKey> KeyRing::Add(const std::string& name,
                                        uint32_t version_after) {
  // Made without the lock (RSA generation takes long); AddKey refuses a
  // version another caller stored first, and then that one is used.
  absl::StatusOr<SigningKey> made = Make(name, version_after + 1);
  absl::MutexLock lock(&mu_);
  std::vector<SigningKey>& versions = keys_[name];
  if (made.ok()) {
    versions.push_back(*made);
    return made;
  }
  if (absl::IsAlreadyExists(made.status()) && !versions.empty() &&
      versions.back().version > version_after) {
    return versions.back();
  }
  return made.status();
}

std::vector<SigningKey> KeyRing::Verifying(const std::string& name) const {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  std::vector<SigningKey> out;
  auto it = keys_.find(name);
  if (it == keys_.end()) return out;
  const std::vector<SigningKey>& versions = it->second;
  for (size_t i = versions.size(); i-- > 0;) {
    // Version i was superseded when version i + 1 was made.
    if (i + 1 == versions.size() ||
        now - versions[i + 1].created_at < overlap_) {
      out.push_back(versions[i]);
    }
  }
  return out;
}

std::vector<SigningKey> KeyRing::Versions(const std::string& name) const {
  absl::MutexLock lock(&mu_);
  auto it = keys_.find(name);
  if (it == keys_.end()) return {};
  return std::vector<SigningKey>(it->second.rbegin(), it->second.rend());
}

absl::StatusOr<SigningKey> KeyRing::Rotate(const std::string& name) {
  if (!KnownName(name)) {
    return absl::InvalidArgumentError("key name must be NSK, TSK or FSK");
  }
  uint32_t latest = 0;
  {
    absl::MutexLock lock(&mu_);
    const std::vector<SigningKey>& versions = keys_[name];
    if (!versions.empty()) latest = versions.back().version;
  }
  return Add(name, latest);
}

}  // namespace trellis::gta
