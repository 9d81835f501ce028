// Each user's certificates and CRLs (GTA's cert API) and the AK chain
// check they serve: a certificate of type tpm_boot / tpm_ima anchors AK
// chains for that attester type, policy / refvalue ones verify signed
// policies and reference values. Stricter than GTA: a user's CRLs apply to
// every certificate of an AK chain, the AK's own included, a self-signed AK
// never passes, and a CRL is accepted only if one of the user's
// certificates signed it. Every change is logged before it is stored.
#ifndef TRELLIS_GTA_CERT_MANAGER_H_
#define TRELLIS_GTA_CERT_MANAGER_H_

#include <openssl/evp.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "gta/change_log.h"
#include "storage/gta_storage.h"

namespace trellis::gta {

inline constexpr size_t kMaxCertsPerUser = 10;
inline constexpr size_t kMaxCrlsPerUser = 10;

struct NewCert {
  std::string name;
  std::string description;
  std::vector<std::string> types;  // refvalue/policy/tpm_boot/tpm_ima, or crl
  std::string content;             // Certificate PEM (or the CRL's PEM).
  bool is_default = false;
};

// Fields left empty are unchanged; the content never changes.
struct CertChange {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> types;
  std::optional<bool> is_default;
};

struct CertDeletion {
  std::string delete_type;  // "id", "type" or "all"
  std::vector<std::string> ids;
  std::string type;  // For "type"; "crl" deletes CRLs.
};

class CertManager {
 public:
  using Clock = std::function<absl::Time()>;
  CertManager(storage::GtaStorage* storage, ChangeLog* changes,
              Clock clock = absl::Now)
      : storage_(storage), changes_(changes), clock_(std::move(clock)) {}

  // INVALID_ARGUMENT for a field out of its limits, a certificate that is
  // expired, not yet valid, of an unsupported key or signature algorithm,
  // or a CRL that is stale, lacks reason codes or is signed by none of the
  // user's certificates; ALREADY_EXISTS for a name the user has;
  // RESOURCE_EXHAUSTED beyond 10 certificates (or 10 CRLs).
  absl::StatusOr<trellis::GtaCert> Add(const std::string& user_id,
                                       NewCert request);
  absl::StatusOr<trellis::GtaCert> Update(const std::string& user_id,
                                          CertChange change);
  absl::StatusOr<std::vector<trellis::GtaCert>> Delete(
      const std::string& user_id, const CertDeletion& deletion);
  // By ids (at most 100), else all of `type` (empty: all but CRLs; "crl":
  // the CRLs).
  absl::StatusOr<std::vector<trellis::GtaCert>> Query(
      const std::string& user_id, const std::vector<std::string>& ids,
      const std::string& type);

  // `chain_pems` (the AK's certificate first, then intermediates) verified
  // up to one of the user's unrevoked certificates of `attester_type`,
  // with the user's CRLs applied to each certificate of the chain: the
  // AK's public key, or INVALID_ARGUMENT saying why not.
  absl::StatusOr<std::shared_ptr<EVP_PKEY>> VerifyAkChain(
      const std::string& user_id, const std::string& attester_type,
      const std::vector<std::string>& chain_pems);

 private:
  absl::Status Record(const trellis::GtaCert& cert, const std::string& action);

  storage::GtaStorage* const storage_;
  ChangeLog* const changes_;
  const Clock clock_;
  absl::Mutex write_mu_;
};

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_CERT_MANAGER_H_
