// The registrar: which TPM (EK) and attestation key (AK) a host has. A host
// registers its EK (public key, and certificate if the TPM has one) and a
// new AK; the registrar answers with a credential sealed to that EK and the
// AK's Name (TPM2_MakeCredential), and the AK becomes usable only when the
// host returns the secret, which only that TPM holding that AK can recover.
// EK certificates are checked against the configured manufacturer CAs.
#ifndef TRELLIS_ATTEST_REGISTRAR_REGISTRAR_H_
#define TRELLIS_ATTEST_REGISTRAR_REGISTRAR_H_

#include <tss2/tss2_tpm2_types.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "attest/registrar/ek_certificates.h"
#include "attest/registrar/make_credential.h"
#include "storage/attest_storage.h"
#include "trellis_attest.pb.h"

namespace trellis::attest {

struct RegistrarOptions {
  // PEM bundle of TPM manufacturer CAs (roots and intermediates). When set,
  // an EK certificate must chain to it.
  std::string ek_ca_file;
  // Refuse TPMs that present no (valid) EK certificate.
  bool require_ek_certificate = false;
};

struct RegistrationRequest {
  std::string host_id;         // 1-128 of [A-Za-z0-9._-].
  std::string ek_public;       // TPM2B_PUBLIC.
  std::string ek_certificate;  // DER; may be empty.
  std::string ak_public;       // TPM2B_PUBLIC.
  std::string policy_id;       // Appraisal policy; empty: "default".
};

class Registrar {
 public:
  static absl::StatusOr<std::unique_ptr<Registrar>> Create(
      storage::AttestStorage* storage, const RegistrarOptions& options);
  ~Registrar();

  // Records the host as pending and returns the credential to activate.
  // A host that is already active keeps its AK until the new one is
  // activated. INVALID_ARGUMENT for an unusable EK or AK, PERMISSION_DENIED
  // for an EK certificate that does not verify (or is missing when
  // required), ALREADY_EXISTS if the AK is another host's or the host id is
  // registered with another EK (an operator must RemoveHost first).
  absl::StatusOr<Credential> Register(const RegistrationRequest& request);

  // Completes a registration with the secret the TPM released.
  // PERMISSION_DENIED for a wrong secret, NOT_FOUND for an unknown host.
  absl::Status Activate(const std::string& host_id, const std::string& secret);

  // The host whose AK `ak_public` (TPM2B_PUBLIC) is, once activated:
  // NOT_FOUND if unregistered, FAILED_PRECONDITION if not activated.
  absl::StatusOr<trellis::HostRegistration> ActiveHostForAk(
      const std::string& ak_public);

  // Operators only: forgets a host (its EK, AKs and clock). NOT_FOUND if
  // unknown.
  absl::Status RemoveHost(const std::string& host_id);

  // A host's registration; NOT_FOUND if unknown.
  absl::StatusOr<trellis::HostRegistration> GetHost(const std::string& host_id);

  // Remembers the clock of a host's accepted quote; a reading older than
  // the one stored is ignored (the clock only advances).
  absl::Status RecordClock(const std::string& host_id,
                           const trellis::TpmClockState& clock);

 private:
  Registrar(storage::AttestStorage* storage, RegistrarOptions options,
            std::unique_ptr<EkCertificateAuthorities> cas);

  // Serialises each host's read-modify-write of its registration (register,
  // activate, clock), striped by host id.
  absl::Mutex& HostLock(const std::string& host_id);

  static constexpr size_t kHostLockStripes = 64;
  storage::AttestStorage* const storage_;
  const RegistrarOptions options_;
  std::unique_ptr<EkCertificateAuthorities> cas_;  // Null: none configured.
  absl::Mutex host_locks_[kHostLockStripes];
};

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_REGISTRAR_REGISTRAR_H_
