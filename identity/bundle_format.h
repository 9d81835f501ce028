// The SPIRE API's Bundle in the SPIFFE bundle format (JWKS) and back: what
// the bundle endpoint serves and `trellis spire bundle show|set` read and
// write.
#ifndef TRELLIS_IDENTITY_BUNDLE_FORMAT_H_
#define TRELLIS_IDENTITY_BUNDLE_FORMAT_H_

#include <string>

#include "absl/status/statusor.h"
#include "spire/api/types/bundle.pb.h"

namespace trellis::identity {

absl::StatusOr<std::string> ToSpiffeBundle(
    const spire::api::types::Bundle& bundle);
// The document's authorities as the bundle of `trust_domain`.
absl::StatusOr<spire::api::types::Bundle> FromSpiffeBundle(
    absl::string_view document, const std::string& trust_domain);

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_BUNDLE_FORMAT_H_
