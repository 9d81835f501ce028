#include "ca/ca_manager.h"

#include <algorithm>
#include <utility>

#include "absl/algorithm/container.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ca/jwt.h"
#include "crypto/keys.h"

namespace trellis::ca {
namespace {

constexpr absl::Duration kMaxPrepareLead = absl::Hours(24 * 30);
constexpr absl::Duration kMaxActivateLead = absl::Hours(24 * 7);
constexpr absl::Duration kPruneAfterExpiry = absl::Hours(24);
// Where AppendAuthorities keeps what it added (a Bundle, sequence_number =
// the number of appends that changed it).
constexpr char kAppendedSetting[] = "ca_appended_authorities";

std::string KeyId(const std::string& slot_id) {
  return absl::StrCat("ca/", slot_id);
}

std::string JwtKeyId(const std::string& slot_id) {
  return absl::StrCat("jwt/", slot_id);
}

}  // namespace

CaManager::CaManager(storage::IdentityStorage* storage, CaOptions options,
                     KeyWrapping wrapping, Clock clock)
    : storage_(storage),
      options_(std::move(options)),
      wrapping_(std::move(wrapping)),
      clock_(std::move(clock)) {}

absl::StatusOr<std::unique_ptr<CaManager>> CaManager::Create(
    storage::IdentityStorage* storage, CaOptions options, KeyWrapping wrapping,
    Clock clock) {
  if (options.ca_ttl <= absl::ZeroDuration() ||
      options.default_x509_svid_ttl <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("CA and SVID TTLs must be positive");
  }
  auto manager = std::unique_ptr<CaManager>(new CaManager(
      storage, std::move(options), std::move(wrapping), std::move(clock)));
  if (manager->options_.upstream != nullptr) {
    absl::StatusOr<std::string> ski =
        SubjectKeyId(manager->options_.upstream->cert_der);
    if (ski.ok()) manager->upstream_ski_ = absl::BytesToHexString(*ski);
  }
  if (absl::Status s = manager->LoadAuthorityChanges(); !s.ok()) return s;
  absl::StatusOr<std::vector<trellis::CaSlot>> stored = storage->GetCaSlots();
  if (!stored.ok()) return stored.status();
  {
    absl::MutexLock lock(&manager->mu_);
    for (trellis::CaSlot& record : *stored) {
      absl::StatusOr<Slot> slot = manager->LoadSlot(record);
      if (!slot.ok()) return slot.status();
      uint64_t number = 0;
      if (!absl::SimpleAtoi(record.slot_id(), &number)) {
        return absl::DataLossError("CA slot id is not a number");
      }
      manager->last_slot_ = std::max(manager->last_slot_, number);
      manager->slots_.push_back(std::move(*slot));
    }
    std::sort(manager->slots_.begin(), manager->slots_.end(),
              [](const Slot& a, const Slot& b) {
                return a.record.not_after() < b.record.not_after();
              });
  }
  absl::StatusOr<std::optional<std::string>> appended =
      storage->GetSetting(kAppendedSetting);
  if (!appended.ok()) return appended.status();
  if (appended->has_value()) {
    absl::MutexLock lock(&manager->mu_);
    if (!manager->appended_.ParseFromString(**appended)) {
      return absl::DataLossError("stored appended authorities are corrupt");
    }
    manager->appends_ = manager->appended_.sequence_number();
  }
  if (absl::Status s = manager->Rotate(); !s.ok()) return s;
  return manager;
}

absl::StatusOr<spire::api::types::Bundle> CaManager::AppendAuthorities(
    const std::vector<std::string>& x509_authorities,
    const std::vector<spire::api::types::JWTKey>& jwt_authorities) {
  {
    absl::MutexLock lock(&mu_);
    spire::api::types::Bundle next = appended_;
    bool changed = false;
    for (const std::string& der : x509_authorities) {
      const bool held = absl::c_any_of(
          next.x509_authorities(),
          [&der](const spire::api::types::X509Certificate& authority) {
            return authority.asn1() == der;
          });
      if (!held) {
        next.add_x509_authorities()->set_asn1(der);
        changed = true;
      }
    }
    for (const spire::api::types::JWTKey& key : jwt_authorities) {
      const bool held =
          absl::c_any_of(next.jwt_authorities(),
                         [&key](const spire::api::types::JWTKey& authority) {
                           return authority.key_id() == key.key_id();
                         });
      if (!held) {
        *next.add_jwt_authorities() = key;
        changed = true;
      }
    }
    if (changed) {
      next.set_sequence_number(appends_ + 1);
      if (absl::Status s =
              storage_->PutSetting(kAppendedSetting, next.SerializeAsString());
          !s.ok()) {
        return s;
      }
      appended_ = std::move(next);
      appends_ = appended_.sequence_number();
      ++roots_version_;
    }
  }
  return Bundle();
}

absl::StatusOr<CaManager::Slot> CaManager::LoadSlot(
    trellis::CaSlot record) const {
  absl::StatusOr<std::string> key =
      wrapping_.unwrap(KeyId(record.slot_id()), record.wrapped_key());
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> jwt_key =
      wrapping_.unwrap(JwtKeyId(record.slot_id()), record.jwt_wrapped_key());
  if (!jwt_key.ok()) return jwt_key.status();
  absl::StatusOr<ParsedIssuer> issuer =
      ParseIssuer({record.certificate(), *key});
  if (!issuer.ok()) return issuer.status();
  absl::StatusOr<std::string> ski = SubjectKeyId(record.certificate());
  if (!ski.ok()) return ski.status();
  absl::StatusOr<crypto::PrivateKey> jwt = crypto::ParsePrivateKey(*jwt_key);
  if (!jwt.ok()) return jwt.status();
  Slot slot;
  slot.record = std::move(record);
  slot.issuer = std::make_shared<const ParsedIssuer>(std::move(*issuer));
  slot.issuer_key_id = std::move(*ski);
  slot.jwt_key = SharedKey(jwt->release(), EVP_PKEY_free);
  if (options_.upstream != nullptr) {
    slot.intermediates.push_back(slot.record.certificate());
    slot.intermediates.insert(slot.intermediates.end(),
                              options_.upstream_chain.begin(),
                              options_.upstream_chain.end());
  }
  return slot;
}

absl::StatusOr<CaManager::ActiveCa> CaManager::Active() const {
  absl::ReaderMutexLock lock(&mu_);
  for (const Slot& slot : slots_) {
    if (slot.record.state() == trellis::CaSlot::ACTIVE) {
      return ActiveCa{slot.issuer, slot.issuer_key_id, slot.intermediates};
    }
  }
  return absl::UnavailableError("no active CA");
}

absl::StatusOr<CaManager::Slot> CaManager::NewSlot(
    absl::Time now, trellis::CaSlot::State state) {
  absl::StatusOr<std::string> key = GeneratePrivateKey(options_.key_type);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> cert;
  if (options_.upstream != nullptr) {
    absl::StatusOr<crypto::PrivateKey> parsed = crypto::ParsePrivateKey(*key);
    if (!parsed.ok()) return parsed.status();
    absl::StatusOr<std::string> spki = crypto::MarshalPublicKey(**parsed);
    if (!spki.ok()) return spki.status();
    cert =
        ca::SignDownstreamCa(*options_.upstream, *spki, now, options_.ca_ttl);
  } else {
    cert =
        CreateSelfSignedCa(*key, options_.trust_domain, now, options_.ca_ttl);
  }
  if (!cert.ok()) return cert.status();
  absl::StatusOr<absl::Time> not_after = NotAfter(*cert);
  if (!not_after.ok()) return not_after.status();
  absl::StatusOr<std::string> jwt_key = GeneratePrivateKey(options_.key_type);
  if (!jwt_key.ok()) return jwt_key.status();
  absl::StatusOr<crypto::PrivateKey> jwt_parsed =
      crypto::ParsePrivateKey(*jwt_key);
  if (!jwt_parsed.ok()) return jwt_parsed.status();
  absl::StatusOr<std::string> jwt_public =
      crypto::MarshalPublicKey(**jwt_parsed);
  if (!jwt_public.ok()) return jwt_public.status();
  Slot slot;
  slot.record.set_slot_id(absl::StrCat(last_slot_ + 1));
  absl::StatusOr<std::string> wrapped =
      wrapping_.wrap(KeyId(slot.record.slot_id()), *key);
  if (!wrapped.ok()) return wrapped.status();
  absl::StatusOr<std::string> jwt_wrapped =
      wrapping_.wrap(JwtKeyId(slot.record.slot_id()), *jwt_key);
  if (!jwt_wrapped.ok()) return jwt_wrapped.status();
  ++last_slot_;
  slot.record.set_state(state);
  slot.record.set_certificate(std::move(*cert));
  slot.record.set_wrapped_key(std::move(*wrapped));
  slot.record.set_not_after(absl::ToUnixSeconds(*not_after));
  slot.record.set_jwt_key_id(NewJwtKeyId());
  slot.record.set_jwt_public_key(std::move(*jwt_public));
  slot.record.set_jwt_wrapped_key(std::move(*jwt_wrapped));
  return LoadSlot(std::move(slot.record));
}

absl::Status CaManager::PersistLocked() {
  std::vector<trellis::CaSlot> records;
  for (const Slot& slot : slots_) records.push_back(slot.record);
  return storage_->PutCaSlots(records);
}

absl::Status CaManager::Rotate() {
  const absl::Time now = clock_();
  absl::MutexLock lock(&mu_);
  const size_t before = slots_.size();
  // Prune CAs a day past their end.
  slots_.erase(
      std::remove_if(slots_.begin(), slots_.end(),
                     [&](const Slot& slot) {
                       return absl::FromUnixSeconds(slot.record.not_after()) +
                                  kPruneAfterExpiry <
                              now;
                     }),
      slots_.end());
  bool changed = slots_.size() != before;

  auto find = [&](trellis::CaSlot::State state)
                  ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> Slot* {
    for (Slot& slot : slots_) {
      if (slot.record.state() == state) return &slot;
    }
    return nullptr;
  };
  Slot* active = find(trellis::CaSlot::ACTIVE);
  if (active != nullptr &&
      absl::FromUnixSeconds(active->record.not_after()) <= now) {
    active->record.set_state(trellis::CaSlot::OLD);
    active = nullptr;
    changed = true;
  }
  if (active == nullptr) {
    Slot* prepared = find(trellis::CaSlot::PREPARED);
    if (prepared != nullptr) {
      prepared->record.set_state(trellis::CaSlot::ACTIVE);
    } else {
      absl::StatusOr<Slot> slot = NewSlot(now, trellis::CaSlot::ACTIVE);
      if (!slot.ok()) return slot.status();
      slots_.push_back(std::move(*slot));
    }
    changed = true;
    active = find(trellis::CaSlot::ACTIVE);
  }

  absl::StatusOr<Validity> validity = GetValidity(active->record.certificate());
  if (!validity.ok()) return validity.status();
  const absl::Duration lifetime = validity->not_after - validity->not_before;
  const absl::Time prepare_at =
      validity->not_after - std::min(lifetime / 2, kMaxPrepareLead);
  const absl::Time activate_at =
      validity->not_after - std::min(lifetime / 6, kMaxActivateLead);
  Slot* prepared = find(trellis::CaSlot::PREPARED);
  if (now >= prepare_at && prepared == nullptr) {
    absl::StatusOr<Slot> slot = NewSlot(now, trellis::CaSlot::PREPARED);
    if (!slot.ok()) return slot.status();
    slots_.push_back(std::move(*slot));
    changed = true;
    active = find(trellis::CaSlot::ACTIVE);
    prepared = find(trellis::CaSlot::PREPARED);
  }
  if (now >= activate_at && prepared != nullptr) {
    active->record.set_state(trellis::CaSlot::OLD);
    prepared->record.set_state(trellis::CaSlot::ACTIVE);
    changed = true;
  }
  if (!changed) return absl::OkStatus();
  ++roots_version_;
  return PersistLocked();
}

absl::StatusOr<CaManager::Precertificate> CaManager::PrepareX509Svid(
    const std::string& spiffe_id, const std::string& public_key_der,
    const std::vector<std::string>& dns_names, absl::Duration ttl,
    const std::vector<RawExtension>& extensions) {
  absl::StatusOr<ActiveCa> active = Active();
  if (!active.ok()) return active.status();
  if (public_key_der.empty()) {
    return absl::InvalidArgumentError("missing public key");
  }
  SvidTemplate svid;
  svid.spiffe_id = spiffe_id;
  svid.public_key_der = public_key_der;
  svid.dns_names = dns_names;
  svid.now = clock_();
  svid.ttl = ttl > absl::ZeroDuration() ? ttl : options_.default_x509_svid_ttl;
  svid.extensions = extensions;
  svid.defer_signature = true;
  absl::StatusOr<IssuedCertificate> cert =
      ca::SignX509Svid(*active->issuer, svid);
  if (!cert.ok()) return cert.status();
  return Precertificate{std::move(*cert), std::move(active->issuer),
                        std::move(active->issuer_key_id),
                        std::move(active->intermediates)};
}

absl::StatusOr<std::string> CaManager::FinishX509Svid(
    Precertificate& precert, absl::string_view promise) {
  if (absl::Status s = promise.empty() ? precert.cert.Sign(*precert.issuer)
                                       : precert.cert.AddInclusionPromise(
                                             *precert.issuer, promise);
      !s.ok()) {
    return s;
  }
  return precert.cert.der();
}

absl::StatusOr<std::vector<std::string>> CaManager::SignX509Svid(
    const std::string& spiffe_id, const std::string& public_key_der,
    const std::vector<std::string>& dns_names, absl::Duration ttl) {
  absl::StatusOr<Precertificate> precert =
      PrepareX509Svid(spiffe_id, public_key_der, dns_names, ttl);
  if (!precert.ok()) return precert.status();
  absl::StatusOr<std::string> der = FinishX509Svid(*precert, "");
  if (!der.ok()) return der.status();
  std::vector<std::string> chain = {*std::move(der)};
  chain.insert(chain.end(), precert->intermediates.begin(),
               precert->intermediates.end());
  return chain;
}

absl::StatusOr<CaManager::DownstreamCa> CaManager::SignDownstreamCa(
    const std::string& public_key_der, absl::Duration ttl) {
  absl::StatusOr<ActiveCa> active = Active();
  if (!active.ok()) return active.status();
  absl::StatusOr<std::string> cert =
      ca::SignDownstreamCa(*active->issuer, public_key_der, clock_(),
                           ttl > absl::ZeroDuration() ? ttl : options_.ca_ttl);
  if (!cert.ok()) return cert.status();
  DownstreamCa out;
  out.issuer_key_id = active->issuer_key_id;
  out.chain = {*std::move(cert)};
  out.chain.insert(out.chain.end(), active->intermediates.begin(),
                   active->intermediates.end());
  out.roots = X509Roots();
  return out;
}

absl::StatusOr<CaManager::JwtSvid> CaManager::SignJwtSvid(
    const std::string& spiffe_id, const std::vector<std::string>& audiences,
    absl::Duration ttl) {
  SharedKey key;
  std::string key_id;
  absl::Time key_end;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const Slot& slot : slots_) {
      if (slot.record.state() == trellis::CaSlot::ACTIVE) {
        key = slot.jwt_key;
        key_id = slot.record.jwt_key_id();
        key_end = absl::FromUnixSeconds(slot.record.not_after());
      }
    }
  }
  if (key == nullptr) return absl::UnavailableError("no active JWT key");
  JwtSvidClaims claims;
  claims.subject = spiffe_id;
  claims.audiences = audiences;
  claims.issued_at = absl::FromUnixSeconds(absl::ToUnixSeconds(clock_()));
  claims.expires_at = std::min(
      key_end,
      claims.issued_at +
          (ttl > absl::ZeroDuration() ? ttl : options_.default_jwt_svid_ttl));
  absl::StatusOr<std::string> token =
      ca::SignJwtSvid(key.get(), key_id, claims);
  if (!token.ok()) return token.status();
  return JwtSvid{std::move(*token), claims.issued_at, claims.expires_at};
}

absl::flat_hash_map<std::string, std::string> CaManager::JwtAuthorities()
    const {
  absl::ReaderMutexLock lock(&mu_);
  absl::flat_hash_map<std::string, std::string> authorities;
  for (const Slot& slot : slots_) {
    if (slot.record.jwt_revoked()) continue;
    authorities[slot.record.jwt_key_id()] = slot.record.jwt_public_key();
  }
  for (const auto& key : appended_.jwt_authorities()) {
    authorities.emplace(key.key_id(), key.public_key());
  }
  return authorities;
}

absl::StatusOr<VerifiedSvid> CaManager::VerifyCallerChain(
    const std::string& chain_pem) {
  uint64_t version;
  {
    absl::ReaderMutexLock lock(&mu_);
    version = roots_version_;
  }
  const std::string key = absl::StrCat(version, "\n", chain_pem);
  if (std::shared_ptr<const VerifiedSvid> hit = verified_chains_.Get(key)) {
    return *hit;
  }
  absl::StatusOr<VerifiedSvid> verified =
      VerifySvidChain(chain_pem, X509Roots());
  if (!verified.ok()) return verified.status();  // Failures are not kept.
  verified_chains_.Put(key, std::make_shared<const VerifiedSvid>(*verified),
                       sizeof(VerifiedSvid) + verified->spiffe_id.size(),
                       /*replace=*/false);
  return verified;
}

std::vector<std::string> CaManager::X509Roots() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> roots = options_.upstream_roots;
  if (options_.upstream == nullptr) {
    for (const Slot& slot : slots_) {
      if (!slot.record.x509_revoked()) {
        roots.push_back(slot.record.certificate());
      }
    }
  }
  for (const auto& authority : appended_.x509_authorities()) {
    roots.push_back(authority.asn1());
  }
  return roots;
}

spire::api::types::Bundle CaManager::Bundle() const {
  spire::api::types::Bundle bundle;
  bundle.set_trust_domain(options_.trust_domain);
  bundle.set_refresh_hint(absl::ToInt64Seconds(options_.bundle_refresh_hint));
  absl::ReaderMutexLock lock(&mu_);
  for (const std::string& root : options_.upstream_roots) {
    bundle.add_x509_authorities()->set_asn1(root);
  }
  for (const Slot& slot : slots_) {
    // Under an upstream CA our CAs are intermediates, not roots.
    if (options_.upstream == nullptr && !slot.record.x509_revoked()) {
      spire::api::types::X509Certificate* root = bundle.add_x509_authorities();
      root->set_asn1(slot.record.certificate());
      root->set_tainted(slot.record.x509_tainted());
    }
    if (!slot.record.jwt_revoked()) {
      spire::api::types::JWTKey* key = bundle.add_jwt_authorities();
      key->set_key_id(slot.record.jwt_key_id());
      key->set_public_key(slot.record.jwt_public_key());
      key->set_expires_at(slot.record.not_after());
      key->set_tainted(slot.record.jwt_tainted());
    }
  }
  for (const auto& authority : appended_.x509_authorities()) {
    *bundle.add_x509_authorities() = authority;
  }
  for (const auto& key : appended_.jwt_authorities()) {
    *bundle.add_jwt_authorities() = key;
  }
  // Every part only grows, so their sum grows with every change.
  bundle.set_sequence_number(last_slot_ + appends_ + authority_changes_);
  return bundle;
}

}  // namespace trellis::ca
