#include "identity/bundle_format.h"

#include "spiffe/bundle_document.h"

namespace trellis::identity {

absl::StatusOr<std::string> ToSpiffeBundle(
    const spire::api::types::Bundle& bundle) {
  spiffe::BundleDocument document;
  for (const auto& authority : bundle.x509_authorities()) {
    document.x509_authorities.push_back(authority.asn1());
  }
  for (const auto& key : bundle.jwt_authorities()) {
    document.jwt_authorities.push_back({key.key_id(), key.public_key()});
  }
  document.sequence = bundle.sequence_number();
  document.refresh_hint_seconds = bundle.refresh_hint();
  return spiffe::EncodeBundle(document);
}

absl::StatusOr<spire::api::types::Bundle> FromSpiffeBundle(
    absl::string_view text, const std::string& trust_domain) {
  absl::StatusOr<spiffe::BundleDocument> document = spiffe::DecodeBundle(text);
  if (!document.ok()) return document.status();
  spire::api::types::Bundle bundle;
  bundle.set_trust_domain(trust_domain);
  for (const std::string& der : document->x509_authorities) {
    bundle.add_x509_authorities()->set_asn1(der);
  }
  for (const spiffe::JwtAuthority& key : document->jwt_authorities) {
    spire::api::types::JWTKey* out = bundle.add_jwt_authorities();
    out->set_key_id(key.key_id);
    out->set_public_key(key.public_key_der);
  }
  bundle.set_sequence_number(document->sequence);
  bundle.set_refresh_hint(document->refresh_hint_seconds);
  return bundle;
}

}  // namespace trellis::identity
