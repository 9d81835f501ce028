// GTA's key manager API (`GET /v1/vault/get_signing_keys`), for a GTA
// deployment that shares Trellis' keys, and a rotation call for operators:
// on a listener of its own that only accepts TLS clients presenting one of
// an allow-list of certificates (it returns private keys). Off unless
// configured.
#ifndef TRELLIS_GTA_API_VAULT_HTTP_H_
#define TRELLIS_GTA_API_VAULT_HTTP_H_

#include <set>
#include <string>

#include "gta/key_ring.h"
#include "http/router.h"

namespace trellis::gta {

// `allowed_certificates`: DER of the client certificates that may call.
//   GET  /v1/vault/get_signing_keys  -> {"NSK": [...], "TSK": [...],
//        "FSK": [...]}, each version newest first: {"version": "v2",
//        "private_key": PEM, "algorithm": "rsa_3072", "encoding": "pem"}
//   POST /v1/vault/rotate?key=TSK    -> the new version
void RegisterVaultRoutes(http::Router& router, KeyRing& keys,
                         std::set<std::string> allowed_certificates);

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_API_VAULT_HTTP_H_
