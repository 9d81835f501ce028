// openEuler GTA's service API (../../shared/seeds/gta-rest-api.md) under
// /global-trust-authority/service/v1: challenge and policy management so
// far. It only translates HTTP and JSON to the GTA managers: every caller
// names itself with User-Id (1..36 characters), errors are
// {"message": ...} with GTA's status codes (400 for bad input, 404 for an
// unknown id, 500 without details).
#ifndef TRELLIS_GTA_API_SERVICE_HTTP_H_
#define TRELLIS_GTA_API_SERVICE_HTTP_H_

#include "gta/nonce_service.h"
#include "gta/policy_manager.h"
#include "http/router.h"

namespace trellis::gta {

inline constexpr char kServicePrefix[] = "/global-trust-authority/service/v1";
inline constexpr char kServiceVersion[] = "1.0";

void RegisterServiceRoutes(http::Router& router, PolicyManager& policies,
                           NonceService& nonces);

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_API_SERVICE_HTTP_H_
