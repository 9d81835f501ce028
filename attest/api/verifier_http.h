// Trellis' Keylime-style REST API for attestation (served over HTTPS by
// trellisd). JSON in, JSON out, each reply in Keylime's envelope
// {"code", "status", "results"}:
//   POST /v2.4/verify/evidence   the Unified-Identity design's request;
//        200 verified, 422 not verified (the failed check is named), 400
//        unusable request; results: verified, verification_details,
//        attested_claims, audit_id
//   POST /v2.4/verify/nonce      {"host_id"} -> {"nonce", "expires_in"}
//   POST /v2.4/registrar/register {"host_id", "ek_public", "ek_certificate"?,
//        "ak_public", "policy_id"?} (base64 TPM2B_PUBLIC / DER) ->
//        {"credential", "secret"} (base64 TPM2B_ID_OBJECT /
//        TPM2B_ENCRYPTED_SECRET)
//   POST /v2.4/registrar/activate {"host_id", "secret"} -> {"active": true}
//   GET  /v2.4/registrar/hosts/ID   a host's registered EK and AK (public)
//   GET  /v2.4/audit/evidence/SHA256HEX  stored evidence, for replays
//   GET  /v2.4/audit/log         {"log_id"} of the verdict log
//   PUT  /v2.4/policies/ID       (operators) body: policy JSON ->
//        {"id","version","digest"}
//   DELETE /v2.4/registrar/hosts/ID (operators) forgets a host, so that it
//        can register another EK
//   GET  /v2.4/policies/ID[?version=N]  -> {"id","version","digest","policy"}
#ifndef TRELLIS_ATTEST_API_VERIFIER_HTTP_H_
#define TRELLIS_ATTEST_API_VERIFIER_HTTP_H_

#include <functional>

#include "attest/registrar/registrar.h"
#include "attest/verifier/appraiser.h"
#include "http/router.h"

namespace trellis::attest {

// Whether a request comes from an operator (admin/operator_auth.h).
using OperatorCheck = std::function<bool(const http::Request&)>;

void RegisterVerifierRoutes(http::Router& router, Registrar& registrar,
                            Appraiser& appraiser, NonceStore& nonces,
                            OperatorCheck is_operator);

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_API_VERIFIER_HTTP_H_
