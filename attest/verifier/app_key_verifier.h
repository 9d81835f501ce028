// Checks an app key certificate (TPM2_Certify of the app key by the AK):
// signed by the host's registered AK, a certification of exactly the key
// the request names, and bound to the attestation's nonce if it carries one.
#ifndef TRELLIS_ATTEST_VERIFIER_APP_KEY_VERIFIER_H_
#define TRELLIS_ATTEST_VERIFIER_APP_KEY_VERIFIER_H_

#include <string>

#include "attest/verifier/checks.h"
#include "attest/verifier/quote_verifier.h"

namespace trellis::attest {

// Adds app_key_certificate_valid and app_key_public_matches_cert.
// `certificate` is the base64 certificate, `app_key_public` the PEM the
// request claims, `nonce` the attestation's nonce.
void VerifyAppKeyCertificate(const std::string& certificate,
                             const std::string& app_key_public,
                             const RegisteredAk& ak, const std::string& nonce,
                             TPM2_ALG_ID hash, Checks& checks);

}  // namespace trellis::attest

#endif  // TRELLIS_ATTEST_VERIFIER_APP_KEY_VERIFIER_H_
