// CaManager's operator controls (the LocalAuthority API): prepare,
// activate, taint and revoke, with SPIRE's rules and wording.
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ca/ca_manager.h"

namespace trellis::ca {
namespace {

// Where the count of operator changes is kept.
constexpr char kAuthorityChangesSetting[] = "ca_authority_changes";

bool IsX509(CaManager::AuthorityKind kind) {
  return kind == CaManager::AuthorityKind::kX509;
}

}  // namespace

absl::Status CaManager::LoadAuthorityChanges() {
  absl::StatusOr<std::optional<std::string>> stored =
      storage_->GetSetting(kAuthorityChangesSetting);
  if (!stored.ok()) return stored.status();
  absl::MutexLock lock(&mu_);
  if (stored->has_value() && !absl::SimpleAtoi(**stored, &authority_changes_)) {
    return absl::DataLossError("stored CA change count is corrupt");
  }
  return absl::OkStatus();
}

absl::Status CaManager::PersistAuthorityChangeLocked() {
  if (absl::Status s = storage_->PutSetting(
          kAuthorityChangesSetting, absl::StrCat(authority_changes_ + 1));
      !s.ok()) {
    return s;
  }
  ++authority_changes_;
  ++roots_version_;
  return PersistLocked();
}

CaManager::AuthorityState CaManager::StateOf(const Slot& slot,
                                             AuthorityKind kind) const {
  AuthorityState state;
  state.authority_id = IsX509(kind) ? absl::BytesToHexString(slot.issuer_key_id)
                                    : slot.record.jwt_key_id();
  state.expires_at = absl::FromUnixSeconds(slot.record.not_after());
  if (IsX509(kind)) state.upstream_authority_subject_key_id = upstream_ski_;
  return state;
}

CaManager::Slot* CaManager::FindSlotLocked(trellis::CaSlot::State state,
                                           AuthorityKind kind,
                                           absl::string_view id) {
  for (Slot& slot : slots_) {
    if (slot.record.state() == state &&
        StateOf(slot, kind).authority_id == id) {
      return &slot;
    }
  }
  return nullptr;
}

CaManager::AuthorityStates CaManager::GetAuthorityStates(
    AuthorityKind kind) const {
  AuthorityStates states;
  absl::ReaderMutexLock lock(&mu_);
  // Slots are in order of their end, so the last old one is the newest.
  for (const Slot& slot : slots_) {
    switch (slot.record.state()) {
      case trellis::CaSlot::ACTIVE:
        states.active = StateOf(slot, kind);
        break;
      case trellis::CaSlot::PREPARED:
        states.prepared = StateOf(slot, kind);
        break;
      case trellis::CaSlot::OLD:
        if (!(IsX509(kind) ? slot.record.x509_revoked()
                           : slot.record.jwt_revoked())) {
          states.old = StateOf(slot, kind);
        }
        break;
      default:
        break;
    }
  }
  return states;
}

absl::StatusOr<CaManager::AuthorityState> CaManager::PrepareAuthority(
    AuthorityKind kind) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Slot> slot = NewSlot(clock_(), trellis::CaSlot::PREPARED);
  if (!slot.ok()) return slot.status();
  slots_.erase(std::remove_if(slots_.begin(), slots_.end(),
                              [](const Slot& held) {
                                return held.record.state() ==
                                       trellis::CaSlot::PREPARED;
                              }),
               slots_.end());
  const AuthorityState state = StateOf(*slot, kind);
  slots_.push_back(std::move(*slot));
  ++roots_version_;
  if (absl::Status s = PersistLocked(); !s.ok()) return s;
  return state;
}

absl::StatusOr<CaManager::AuthorityState> CaManager::ActivateAuthority(
    AuthorityKind kind, absl::string_view id) {
  if (id.empty()) {
    return absl::InvalidArgumentError("no authority ID provided");
  }
  absl::MutexLock lock(&mu_);
  Slot* prepared = FindSlotLocked(trellis::CaSlot::PREPARED, kind, id);
  if (prepared == nullptr) {
    return absl::InvalidArgumentError("unexpected authority ID");
  }
  for (Slot& slot : slots_) {
    if (slot.record.state() == trellis::CaSlot::ACTIVE) {
      slot.record.set_state(trellis::CaSlot::OLD);
    }
  }
  prepared->record.set_state(trellis::CaSlot::ACTIVE);
  const AuthorityState state = StateOf(*prepared, kind);
  ++roots_version_;
  if (absl::Status s = PersistLocked(); !s.ok()) return s;
  return state;
}

absl::StatusOr<CaManager::Slot*> CaManager::OldSlotLocked(
    AuthorityKind kind, absl::string_view id, absl::string_view verb) {
  if (IsX509(kind) && options_.upstream != nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("local authority can't be ", verb,
                     " if there is an upstream authority"));
  }
  if (id.empty()) {
    return absl::InvalidArgumentError("no authority ID provided");
  }
  if (FindSlotLocked(trellis::CaSlot::ACTIVE, kind, id) != nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("unable to ", verb == "tainted" ? "taint" : "revoke",
                     " current local authority"));
  }
  Slot* old = FindSlotLocked(trellis::CaSlot::OLD, kind, id);
  if (old == nullptr) {
    return absl::InvalidArgumentError(
        FindSlotLocked(trellis::CaSlot::PREPARED, kind, id) != nullptr
            ? absl::StrCat("only Old local authorities can be ", verb)
            : "unexpected authority ID");
  }
  return old;
}

absl::StatusOr<CaManager::AuthorityState> CaManager::TaintAuthority(
    AuthorityKind kind, absl::string_view id) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Slot*> old = OldSlotLocked(kind, id, "tainted");
  if (!old.ok()) return old.status();
  trellis::CaSlot& record = (*old)->record;
  if (IsX509(kind) ? record.x509_revoked() : record.jwt_revoked()) {
    return absl::InvalidArgumentError("the authority is revoked");
  }
  if (IsX509(kind) ? record.x509_tainted() : record.jwt_tainted()) {
    return absl::InvalidArgumentError("the authority is already tainted");
  }
  IsX509(kind) ? record.set_x509_tainted(true) : record.set_jwt_tainted(true);
  const AuthorityState state = StateOf(**old, kind);
  if (absl::Status s = PersistAuthorityChangeLocked(); !s.ok()) return s;
  return state;
}

absl::StatusOr<CaManager::AuthorityState> CaManager::RevokeAuthority(
    AuthorityKind kind, absl::string_view id) {
  absl::MutexLock lock(&mu_);
  absl::StatusOr<Slot*> old = OldSlotLocked(kind, id, "revoked");
  if (!old.ok()) return old.status();
  trellis::CaSlot& record = (*old)->record;
  if (IsX509(kind) ? record.x509_revoked() : record.jwt_revoked()) {
    return absl::InvalidArgumentError("the authority is already revoked");
  }
  if (!(IsX509(kind) ? record.x509_tainted() : record.jwt_tainted())) {
    return absl::InvalidArgumentError(
        "it is not possible to revoke an untainted authority: taint it first");
  }
  IsX509(kind) ? record.set_x509_revoked(true) : record.set_jwt_revoked(true);
  const AuthorityState state = StateOf(**old, kind);
  if (absl::Status s = PersistAuthorityChangeLocked(); !s.ok()) return s;
  return state;
}

absl::Status CaManager::RefuseUpstreamAuthorityChange(
    absl::string_view subject_key_id) const {
  if (options_.upstream == nullptr) {
    return absl::FailedPreconditionError(
        "upstream authority is not configured");
  }
  if (subject_key_id.empty()) {
    return absl::InvalidArgumentError("no subject key ID provided");
  }
  if (absl::AsciiStrToLower(subject_key_id) == upstream_ski_) {
    return absl::InvalidArgumentError(
        "unable to use upstream authority signing current authority");
  }
  return absl::InvalidArgumentError(
      "upstream authority didn't sign the old local authority");
}

}  // namespace trellis::ca
