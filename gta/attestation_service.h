// GTA's remote attestation (POST /attest): per measurement, the nonce
// (verifier, user or ignore), each evidence verified (AK chain to the
// user's certificates, quote bound to the nonce and attester_data, the
// log replayed), the user's policies and the export policy evaluated, and
// one signed token per node, EAT as GTA emits it or EAR
// (draft-ietf-rats-ear). Every token is logged before it is returned and
// carries its record's leaf hash. Any failure aborts the whole request.
#ifndef TRELLIS_GTA_ATTESTATION_SERVICE_H_
#define TRELLIS_GTA_ATTESTATION_SERVICE_H_

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "gta/cert_manager.h"
#include "gta/change_log.h"
#include "gta/nonce_service.h"
#include "gta/policy_manager.h"
#include "gta/ref_value_manager.h"
#include "gta/token_issuer.h"
#include "nlohmann/json.hpp"
#include "policy/rego_policy.h"

namespace trellis::gta {

struct IssuedToken {
  std::string node_id;
  std::string token;
};

class AttestationService {
 public:
  // Compiles the export policies.
  static absl::StatusOr<std::unique_ptr<AttestationService>> Create(
      NonceService* nonces, CertManager* certs, PolicyManager* policies,
      RefValueManager* ref_values, TokenIssuer* tokens, ChangeLog* changes);

  // `request_text` is the request body as received (attester_data and the
  // nonce are bound as the attester serialised them). INVALID_ARGUMENT
  // with GTA's messages for bad input or failed verification.
  absl::StatusOr<std::vector<IssuedToken>> Attest(
      const std::string& user_id, const std::string& request_text);

 private:
  AttestationService(NonceService* nonces, CertManager* certs,
                     PolicyManager* policies, RefValueManager* ref_values,
                     TokenIssuer* tokens, ChangeLog* changes)
      : nonces_(nonces),
        certs_(certs),
        policies_(policies),
        ref_values_(ref_values),
        tokens_(tokens),
        changes_(changes) {}

  NonceService* const nonces_;
  CertManager* const certs_;
  PolicyManager* const policies_;
  RefValueManager* const ref_values_;
  TokenIssuer* const tokens_;
  ChangeLog* const changes_;
  std::map<std::string, std::unique_ptr<policy::RegoPolicy>> export_policies_;
};

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_ATTESTATION_SERVICE_H_
