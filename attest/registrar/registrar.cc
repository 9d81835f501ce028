#include "attest/registrar/registrar.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "absl/hash/hash.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "attest/tpm/clock.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "crypto/keys.h"

namespace trellis::attest {
namespace {

bool ValidHostId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' ||
          c == '-')) {
      return false;
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Registrar>> Registrar::Create(
    storage::AttestStorage* storage, const RegistrarOptions& options) {
  absl::StatusOr<std::unique_ptr<EkCertificateAuthorities>> cas =
      EkCertificateAuthorities::LoadIfNamed(options.ek_ca_file);
  if (!cas.ok()) return cas.status();
  return std::unique_ptr<Registrar>(
      new Registrar(storage, options, std::move(*cas)));
}

Registrar::Registrar(storage::AttestStorage* storage, RegistrarOptions options,
                     std::unique_ptr<EkCertificateAuthorities> cas)
    : storage_(storage), options_(std::move(options)), cas_(std::move(cas)) {}

Registrar::~Registrar() = default;

absl::Mutex& Registrar::HostLock(const std::string& host_id) {
  return host_locks_[absl::Hash<std::string>()(host_id) % kHostLockStripes];
}

absl::StatusOr<Credential> Registrar::Register(
    const RegistrationRequest& request) {
  if (!ValidHostId(request.host_id)) {
    return absl::InvalidArgumentError(
        "host_id must be 1-128 characters of [A-Za-z0-9._-]");
  }
  absl::StatusOr<TPMT_PUBLIC> ek = tpm::ParsePublic(request.ek_public);
  if (!ek.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("EK: ", ek.status().message()));
  }
  if (absl::Status s = tpm::CheckEndorsementKey(*ek); !s.ok()) return s;
  absl::StatusOr<TPMT_PUBLIC> ak = tpm::ParsePublic(request.ak_public);
  if (!ak.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("AK: ", ak.status().message()));
  }
  if (absl::Status s = tpm::CheckAttestationKey(*ak); !s.ok()) return s;

  bool certificate_verified = false;
  if (!request.ek_certificate.empty() && cas_ != nullptr) {
    absl::StatusOr<crypto::PrivateKey> ek_key = tpm::ToOpenSslKey(*ek);
    if (!ek_key.ok()) return ek_key.status();
    absl::Status s = cas_->Verify(request.ek_certificate, *ek_key->get());
    if (!s.ok()) return s;
    certificate_verified = true;
  }
  if (options_.require_ek_certificate && !certificate_verified) {
    return absl::PermissionDeniedError(
        "this registrar requires an EK certificate from a known "
        "manufacturer CA");
  }

  absl::StatusOr<std::string> ak_name = tpm::ObjectName(*ak);
  if (!ak_name.ok()) return ak_name.status();
  absl::StatusOr<std::string> ak_qn = tpm::AkQualifiedName(*ek, *ak);
  if (!ak_qn.ok()) return ak_qn.status();

  std::string secret(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 1) {
    return absl::InternalError("no randomness");
  }
  absl::StatusOr<Credential> credential = MakeCredential(*ek, *ak_name, secret);
  if (!credential.ok()) return credential.status();

  absl::MutexLock lock(&HostLock(request.host_id));
  absl::StatusOr<std::optional<trellis::HostRegistration>> existing =
      storage_->GetHost(request.host_id);
  if (!existing.ok()) return existing.status();
  if (existing->has_value() && (*existing)->ek_public() != request.ek_public) {
    return absl::AlreadyExistsError(absl::StrCat(
        "host ", request.host_id,
        " is registered with another EK; an operator must remove it first"));
  }
  absl::StatusOr<std::optional<trellis::HostRegistration>> ak_owner =
      storage_->GetHostByAkName(*ak_name);
  if (!ak_owner.ok()) return ak_owner.status();
  if (ak_owner->has_value() && (*ak_owner)->host_id() != request.host_id) {
    return absl::AlreadyExistsError("this AK is registered to another host");
  }
  trellis::HostRegistration host;
  if (existing->has_value() && (*existing)->active()) {
    // Same TPM, new AK: the active one stays in use until this is proven.
    host = std::move(**existing);
    host.set_pending_ak_public(request.ak_public);
    host.set_pending_ak_name(*ak_name);
    host.set_pending_ak_qualified_name(*ak_qn);
  } else {
    host.set_host_id(request.host_id);
    host.set_ek_public(request.ek_public);
    host.set_ak_public(request.ak_public);
    host.set_ak_name(*ak_name);
    host.set_ak_qualified_name(*ak_qn);
    host.set_active(false);
    host.set_policy_id(request.policy_id);
  }
  host.set_ek_certificate(request.ek_certificate);
  host.set_ek_certificate_verified(certificate_verified);
  host.set_activation_digest(*tpm::TpmHash(TPM2_ALG_SHA256, secret));
  host.set_registered_unix_nanos(absl::GetCurrentTimeNanos());
  if (absl::Status s = storage_->PutHost(host); !s.ok()) return s;
  return credential;
}

absl::Status Registrar::Activate(const std::string& host_id,
                                 const std::string& secret) {
  absl::MutexLock lock(&HostLock(host_id));
  absl::StatusOr<std::optional<trellis::HostRegistration>> host =
      storage_->GetHost(host_id);
  if (!host.ok()) return host.status();
  if (!host->has_value()) {
    return absl::NotFoundError(absl::StrCat("no host ", host_id));
  }
  trellis::HostRegistration& h = **host;
  const bool pending_ak = !h.pending_ak_name().empty();
  if (h.active() && !pending_ak) return absl::OkStatus();
  const std::string digest = *tpm::TpmHash(TPM2_ALG_SHA256, secret);
  const std::string& expected = h.activation_digest();
  if (digest.size() != expected.size() ||
      CRYPTO_memcmp(digest.data(), expected.data(), digest.size()) != 0) {
    return absl::PermissionDeniedError(
        "wrong activation secret: the AK is not proven to be in this TPM");
  }
  if (pending_ak) {
    h.set_ak_public(h.pending_ak_public());
    h.set_ak_name(h.pending_ak_name());
    h.set_ak_qualified_name(h.pending_ak_qualified_name());
    h.clear_pending_ak_public();
    h.clear_pending_ak_name();
    h.clear_pending_ak_qualified_name();
    // The new AK's quotes come from the same TPM clock: keep last_clock.
  }
  h.set_active(true);
  h.clear_activation_digest();
  return storage_->PutHost(h);
}

absl::Status Registrar::RemoveHost(const std::string& host_id) {
  absl::MutexLock lock(&HostLock(host_id));
  return storage_->DeleteHost(host_id);
}

absl::StatusOr<trellis::HostRegistration> Registrar::ActiveHostForAk(
    const std::string& ak_public) {
  absl::StatusOr<TPMT_PUBLIC> ak = tpm::ParsePublic(ak_public);
  if (!ak.ok()) return ak.status();
  absl::StatusOr<std::string> name = tpm::ObjectName(*ak);
  if (!name.ok()) return name.status();
  absl::StatusOr<std::optional<trellis::HostRegistration>> host =
      storage_->GetHostByAkName(*name);
  if (!host.ok()) return host.status();
  if (!host->has_value()) {
    return absl::NotFoundError("the AK is not registered");
  }
  if (!(*host)->active()) {
    return absl::FailedPreconditionError(
        "the AK's registration was never activated");
  }
  return **host;
}

absl::StatusOr<trellis::HostRegistration> Registrar::GetHost(
    const std::string& host_id) {
  absl::StatusOr<std::optional<trellis::HostRegistration>> host =
      storage_->GetHost(host_id);
  if (!host.ok()) return host.status();
  if (!host->has_value()) {
    return absl::NotFoundError(absl::StrCat("no host ", host_id));
  }
  return **host;
}

absl::Status Registrar::RecordClock(const std::string& host_id,
                                    const trellis::TpmClockState& clock) {
  absl::MutexLock lock(&HostLock(host_id));
  absl::StatusOr<std::optional<trellis::HostRegistration>> host =
      storage_->GetHost(host_id);
  if (!host.ok()) return host.status();
  if (!host->has_value()) return absl::NotFoundError("no such host");
  // Concurrent verdicts finish in any order: keep the latest reading.
  const trellis::TpmClockState& last = (*host)->last_clock();
  if ((*host)->has_last_clock() &&
      !tpm::ClockAdvanced(
          {last.clock(), last.reset_count(), last.restart_count()},
          {clock.clock(), clock.reset_count(), clock.restart_count()})) {
    return absl::OkStatus();
  }
  *(*host)->mutable_last_clock() = clock;
  return storage_->PutHost(**host);
}

}  // namespace trellis::attest
