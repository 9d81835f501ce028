// SPIFFE trust bundles in their JWKS document form (spiffe/spiffe standards/
// SPIFFE_Trust_Domain_and_Bundle.md, section 4), as SPIRE and go-spiffe
// exchange them over the bundle endpoint.
#ifndef TRELLIS_SPIFFE_BUNDLE_DOCUMENT_H_
#define TRELLIS_SPIFFE_BUNDLE_DOCUMENT_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::spiffe {

// Bounds on documents from federated trust domains, which are untrusted.
inline constexpr size_t kMaxBundleDocumentBytes = 1 << 20;
inline constexpr size_t kMaxBundleKeys = 1024;

struct JwtAuthority {
  std::string key_id;
  std::string public_key_der;  // PKIX SubjectPublicKeyInfo DER
};

struct BundleDocument {
  std::vector<std::string> x509_authorities;  // DER certificates
  std::vector<JwtAuthority> jwt_authorities;
  uint64_t sequence = 0;             // spiffe_sequence
  int64_t refresh_hint_seconds = 0;  // spiffe_refresh_hint; 0: omitted
};

// The JWKS text: {"keys":[...], "spiffe_sequence":N, "spiffe_refresh_hint":S}.
// spiffe_sequence is always written; spiffe_refresh_hint only when non-zero.
// X.509 authorities: {"use":"x509-svid","kty":...,"crv"/"n","e"...,
// "x5c":[base64 std DER]} (the key params of the certificate's public key, as
// go-spiffe writes them).
// JWT authorities: {"use":"jwt-svid","kid":...,"kty":"EC",
// "crv":"P-256|P-384|P-521","x":...,"y":...}, {"kty":"RSA","n":...,"e":...}
// or {"kty":"OKP","crv":"Ed25519","x":...}; x/y/n/e base64url without
// padding, EC coordinates left-padded to the curve's byte size.
// INVALID_ARGUMENT for a key type it cannot express (anything but P-256,
// P-384, P-521, RSA and Ed25519), an unparseable certificate or key, an empty,
// duplicate or non-UTF-8 key_id, a negative refresh hint, or a bundle over the
// limits above.
absl::StatusOr<std::string> EncodeBundle(const BundleDocument& bundle);

// Parses a JWKS bundle document: a JSON object with a "keys" array (may be
// empty). Each key needs "use" of "x509-svid" (exactly one x5c entry, a DER
// certificate; when "kty" is present its key params must match the
// certificate's public key) or "jwt-svid" (a non-empty "kid", unique among
// the JWT authorities, and EC/RSA/OKP params that form a valid key, returned
// as PKIX DER). Keys with an unknown "use" are ignored, as section 4.2.2 of
// the standard requires. spiffe_sequence and spiffe_refresh_hint are optional
// non-negative integers. INVALID_ARGUMENT, naming the key index, for anything
// else or for a document over the limits above.
absl::StatusOr<BundleDocument> DecodeBundle(absl::string_view json_text);

}  // namespace trellis::spiffe

#endif  // TRELLIS_SPIFFE_BUNDLE_DOCUMENT_H_
