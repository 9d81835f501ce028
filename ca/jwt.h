// JWT-SVIDs (SPIFFE JWT-SVID standard): compact JWS with a kid, signed with
// the trust domain's JWT key; and their verification against a bundle's JWT
// authorities.
#ifndef TRELLIS_CA_JWT_H_
#define TRELLIS_CA_JWT_H_

#include <openssl/types.h>

#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace trellis::ca {

// A JWT key id as upstream makes them: 32 random [a-zA-Z0-9].
std::string NewJwtKeyId();

struct JwtSvidClaims {
  std::string subject;                 // The SPIFFE ID.
  std::vector<std::string> audiences;  // At least one.
  absl::Time issued_at;
  absl::Time expires_at;
};

// A compact JWS: header {alg, kid, typ: "JWT"}, claims {sub, aud, exp, iat}.
// alg follows the key: ES256 (P-256), ES384 (P-384), RS256 (RSA).
absl::StatusOr<std::string> SignJwtSvid(absl::string_view key_der,
                                        absl::string_view key_id,
                                        const JwtSvidClaims& claims);
// The same with a decoded key.
absl::StatusOr<std::string> SignJwtSvid(EVP_PKEY* key, absl::string_view key_id,
                                        const JwtSvidClaims& claims);

// Checks a token's signature with the authority its kid names (kid ->
// PKIX DER public key), its expiry at `now` and that `audience` is among
// its audiences; the claims on success. INVALID_ARGUMENT for a malformed
// token, UNAUTHENTICATED for one that does not verify.
absl::StatusOr<JwtSvidClaims> VerifyJwtSvid(
    absl::string_view token,
    const absl::flat_hash_map<std::string, std::string>& authorities,
    absl::string_view audience, absl::Time now);

}  // namespace trellis::ca

#endif  // TRELLIS_CA_JWT_H_
