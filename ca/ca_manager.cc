#include "ca/ca_manager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace trellis::ca {
namespace {

constexpr absl::Duration kMaxPrepareLead = absl::Hours(24 * 30);
constexpr absl::Duration kMaxActivateLead = absl::Hours(24 * 7);
constexpr absl::Duration kPruneAfterExpiry = absl::Hours(24);

std::string KeyId(const std::string& slot_id) {
  return absl::StrCat("ca/", slot_id);
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
  absl::StatusOr<std::vector<trellis::CaSlot>> stored = storage->GetCaSlots();
  if (!stored.ok()) return stored.status();
  {
    absl::MutexLock lock(&manager->mu_);
    for (trellis::CaSlot& record : *stored) {
      absl::StatusOr<std::string> key = manager->wrapping_.unwrap(
          KeyId(record.slot_id()), record.wrapped_key());
      if (!key.ok()) return key.status();
      uint64_t number = 0;
      if (!absl::SimpleAtoi(record.slot_id(), &number)) {
        return absl::DataLossError("CA slot id is not a number");
      }
      manager->last_slot_ = std::max(manager->last_slot_, number);
      manager->slots_.push_back({std::move(record), std::move(*key)});
    }
    std::sort(manager->slots_.begin(), manager->slots_.end(),
              [](const Slot& a, const Slot& b) {
                return a.record.not_after() < b.record.not_after();
              });
  }
  if (absl::Status s = manager->Rotate(); !s.ok()) return s;
  return manager;
}

absl::StatusOr<CaManager::Slot> CaManager::NewSlot(
    absl::Time now, trellis::CaSlot::State state) {
  absl::StatusOr<std::string> key = GeneratePrivateKey(options_.key_type);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> cert =
      CreateSelfSignedCa(*key, options_.trust_domain, now, options_.ca_ttl);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<absl::Time> not_after = NotAfter(*cert);
  if (!not_after.ok()) return not_after.status();
  Slot slot;
  slot.record.set_slot_id(absl::StrCat(last_slot_ + 1));
  absl::StatusOr<std::string> wrapped =
      wrapping_.wrap(KeyId(slot.record.slot_id()), *key);
  if (!wrapped.ok()) return wrapped.status();
  ++last_slot_;
  slot.record.set_state(state);
  slot.record.set_certificate(std::move(*cert));
  slot.record.set_wrapped_key(std::move(*wrapped));
  slot.record.set_not_after(absl::ToUnixSeconds(*not_after));
  slot.key_der = std::move(*key);
  return slot;
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
  return changed ? PersistLocked() : absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> CaManager::SignX509Svid(
    const std::string& spiffe_id, const std::string& public_key_der,
    const std::vector<std::string>& dns_names, absl::Duration ttl) {
  Issuer issuer;
  {
    absl::ReaderMutexLock lock(&mu_);
    for (const Slot& slot : slots_) {
      if (slot.record.state() == trellis::CaSlot::ACTIVE) {
        issuer = {slot.record.certificate(), slot.key_der};
      }
    }
  }
  if (issuer.cert_der.empty()) {
    return absl::UnavailableError("no active CA");
  }
  SvidTemplate svid;
  svid.spiffe_id = spiffe_id;
  svid.public_key_der = public_key_der;
  svid.dns_names = dns_names;
  svid.now = clock_();
  svid.ttl = ttl > absl::ZeroDuration() ? ttl : options_.default_x509_svid_ttl;
  absl::StatusOr<std::string> leaf = ca::SignX509Svid(issuer, svid);
  if (!leaf.ok()) return leaf.status();
  return std::vector<std::string>{std::move(*leaf)};
}

std::vector<std::string> CaManager::X509Roots() const {
  absl::ReaderMutexLock lock(&mu_);
  std::vector<std::string> roots;
  for (const Slot& slot : slots_) roots.push_back(slot.record.certificate());
  return roots;
}

spire::api::types::Bundle CaManager::Bundle() const {
  spire::api::types::Bundle bundle;
  bundle.set_trust_domain(options_.trust_domain);
  for (std::string& root : X509Roots()) {
    bundle.add_x509_authorities()->set_asn1(std::move(root));
  }
  bundle.set_refresh_hint(absl::ToInt64Seconds(options_.bundle_refresh_hint));
  absl::ReaderMutexLock lock(&mu_);
  bundle.set_sequence_number(last_slot_);
  return bundle;
}

}  // namespace trellis::ca
