// SPIFFE IDs (spiffe/spiffe standards/SPIFFE-ID.md, with go-spiffe's strict
// character rules, which SPIRE agents and servers enforce).
#ifndef TRELLIS_SPIFFE_ID_H_
#define TRELLIS_SPIFFE_ID_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::spiffe {

inline constexpr size_t kMaxSpiffeIdLength = 2048;
inline constexpr size_t kMaxTrustDomainLength = 255;

struct SpiffeId {
  std::string trust_domain;  // Bare name, e.g. "example.org".
  std::string path;          // Empty, or "/seg/seg..." without trailing '/'.

  // "spiffe://<trust_domain><path>".
  std::string ToString() const;

  friend bool operator==(const SpiffeId &a, const SpiffeId &b) {
    return a.trust_domain == b.trust_domain && a.path == b.path;
  }
  friend bool operator!=(const SpiffeId &a, const SpiffeId &b) {
    return !(a == b);
  }
};

// Parses "spiffe://<td><path>". The scheme is case-sensitive; the trust domain
// is [a-z0-9._-]{1,255} without userinfo or port; path segments are
// [a-zA-Z0-9._-]+ other than "." and ".."; no trailing '/', query or
// fragment; at most 2048 bytes in all. INVALID_ARGUMENT otherwise.
absl::StatusOr<SpiffeId> ParseSpiffeId(absl::string_view uri);

// Accepts a bare trust domain name ("example.org") or its ID
// ("spiffe://example.org", no path) and returns the bare name.
absl::StatusOr<std::string> ValidateTrustDomain(absl::string_view name_or_id);

// OK for an empty path or one of '/'-prefixed valid segments.
absl::Status ValidatePath(absl::string_view path);

// The ID for `trust_domain` (bare or "spiffe://" form) and `path` (empty or
// starting with '/'), validated as ParseSpiffeId would.
absl::StatusOr<SpiffeId> MakeSpiffeId(absl::string_view trust_domain,
                                      absl::string_view path);

}  // namespace trellis::spiffe

#endif  // TRELLIS_SPIFFE_ID_H_
