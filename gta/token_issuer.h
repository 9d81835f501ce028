// GTA attestation tokens: JWTs signed with the TSK (RSA-PSS: PS256 by
// default, PS384 / PS512 configurable), claims as GTA emits them, a
// configurable lifetime (1 h by default, not GTA's ~7 days), verification
// of signature, exp and nbf with every TSK version still in its overlap,
// and the JWKS of those versions (GTA publishes none).
#ifndef TRELLIS_GTA_TOKEN_ISSUER_H_
#define TRELLIS_GTA_TOKEN_ISSUER_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/rsa_pss.h"
#include "gta/key_ring.h"
#include "nlohmann/json.hpp"

namespace trellis::gta {

inline constexpr char kEatProfile[] =
    "https://github.com/trellis-transparency/trellis/gta-eat-profile";

struct TokenOptions {
  std::string algorithm = "PS256";  // PS256, PS384 or PS512.
  absl::Duration lifetime = absl::Hours(1);
  std::string issuer = "trellis";
  std::string jku;  // The JWKS URL to name in headers; empty: none.
};

struct VerifiedToken {
  nlohmann::json header;
  nlohmann::json body;
};

class TokenIssuer {
 public:
  using Clock = std::function<absl::Time()>;
  // INVALID_ARGUMENT for an algorithm other than PS256/384/512.
  static absl::StatusOr<std::unique_ptr<TokenIssuer>> Create(
      KeyRing* keys, TokenOptions options, Clock clock = absl::Now);

  // A signed token of `claims` plus iat, nbf, exp, iss, ver, eat_profile
  // (unless `claims` names another profile) and jti (unless `claims` has
  // one).
  absl::StatusOr<std::string> Issue(nlohmann::json claims);
  // INVALID_ARGUMENT saying why a token is refused.
  absl::StatusOr<VerifiedToken> Verify(const std::string& token) const;
  // {"keys": [...]}: the TSK versions that verify now.
  nlohmann::json Jwks() const;

 private:
  TokenIssuer(KeyRing* keys, TokenOptions options, crypto::PssHash hash,
              Clock clock)
      : keys_(keys),
        options_(std::move(options)),
        hash_(hash),
        clock_(std::move(clock)) {}

  KeyRing* const keys_;
  const TokenOptions options_;
  const crypto::PssHash hash_;
  const Clock clock_;
};

}  // namespace trellis::gta

#endif  // TRELLIS_GTA_TOKEN_ISSUER_H_
