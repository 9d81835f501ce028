// openEuler GTA's service API (../../shared/seeds/gta-rest-api.md) under
// /global-trust-authority/service/v1: challenge, attest, token/verify,
// policy and cert management, and the token keys' JWKS (GTA has none). It
// only translates HTTP and JSON to the GTA managers: every caller
// names itself with User-Id (1..36 characters), errors are
// {"message": ...} with GTA's status codes (400 for bad input, 401 without
// a valid API key, 404 for an unknown id, 429 beyond the rate limits, 500
// without details).
#ifndef TRELLIS_GTA_API_SERVICE_HTTP_H_
#define TRELLIS_GTA_API_SERVICE_HTTP_H_

#include "gta/api_keys.h"
#include "gta/attestation_service.h"
#include "gta/cert_manager.h"
#include "gta/nonce_service.h"
#include "gta/policy_manager.h"
#include "gta/ref_value_manager.h"
#include "gta/token_issuer.h"
#include "http/router.h"

namespace trellis::gta {

inline constexpr char kServicePrefix[] = "/global-trust-authority/service/v1";
inline constexpr char kServiceVersion[] = "1.0";

struct ServiceApi {
  PolicyManager* policies;
  CertManager* certs;
  RefValueManager* ref_values;
  NonceService* nonces;
  TokenIssuer* tokens;
  AttestationService* attestation;
  ApiKeyManager* api_keys;
  // Every service call but register, token/verify and jwks then needs a
  // valid API-Key with its User-Id (401 otherwise).
  bool require_api_key = false;
  // Requests a second per client address (twice that in a burst) to every
  // route but register (its own, stricter limit) and jwks; beyond, 429 with
  // Retry-After. 0: no limit.
  double requests_per_second = 0;
};

void RegisterServiceRoutes(http::Router& router, const ServiceApi& api);

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_API_SERVICE_HTTP_H_
