// Bundles beyond the CA's own: authorities appended to the trust domain's
// bundle, and the bundles of federated trust domains (SPIRE's bundle API
// rules: validated authorities, one bundle per trust domain, never the
// server's own, deletions that respect the entries federating with it).
#ifndef TRELLIS_IDENTITY_BUNDLE_MANAGER_H_
#define TRELLIS_IDENTITY_BUNDLE_MANAGER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ca/ca_manager.h"
#include "identity/entry_manager.h"
#include "spire/api/server/bundle/v1/bundle.pb.h"
#include "spire/api/types/bundle.pb.h"
#include "storage/identity_storage.h"

namespace trellis::identity {

using Bundle = spire::api::types::Bundle;
using DeleteMode =
    spire::api::server::bundle::v1::BatchDeleteFederatedBundleRequest::Mode;

// Most X.509 and most JWT authorities one bundle may hold.
inline constexpr int kMaxBundleAuthorities = 256;

class BundleManager {
 public:
  BundleManager(storage::IdentityStorage* storage, ca::CaManager* ca,
                EntryManager* entries);

  // Adds authorities to the trust domain's own bundle; INVALID_ARGUMENT for
  // one that does not parse (or a JWT key without an id).
  absl::StatusOr<Bundle> Append(
      const std::vector<spire::api::types::X509Certificate>& x509,
      const std::vector<spire::api::types::JWTKey>& jwt);

  // A downstream server's JWT key into the trust domain's bundle (caller
  // `caller_id` must be a downstream server's); every JWT authority after.
  absl::StatusOr<std::vector<spire::api::types::JWTKey>> PublishJwtAuthority(
      const std::string& caller_id, const spire::api::types::JWTKey& key);

  // NOT_FOUND if there is no bundle for `trust_domain`; INVALID_ARGUMENT for
  // a malformed name or the server's own trust domain.
  absl::StatusOr<Bundle> GetFederated(const std::string& trust_domain);

  struct Page {
    std::vector<Bundle> bundles;
    std::string next_page_token;  // Empty on the last page.
  };
  // In trust domain order; page_size 0: all of them.
  absl::StatusOr<Page> ListFederated(int32_t page_size,
                                     const std::string& page_token);
  // The server's own bundle and the federated ones.
  absl::StatusOr<int32_t> Count();

  // ALREADY_EXISTS if the trust domain has a bundle.
  absl::StatusOr<Bundle> Create(Bundle bundle);
  // NOT_FOUND if it has none; `mask` (may be null: every field) names the
  // fields taken from `bundle`.
  absl::StatusOr<Bundle> Update(Bundle bundle,
                                const spire::api::types::BundleMask* mask);
  // Creates or replaces.
  absl::StatusOr<Bundle> Set(Bundle bundle);
  // RESTRICT: FAILED_PRECONDITION while entries federate with it; DELETE:
  // those entries go too; DISSOCIATE: they stop federating with it.
  absl::Status Delete(const std::string& trust_domain, DeleteMode mode);

 private:
  // The trust domain name of `name` ("td" or "spiffe://td"), refusing the
  // server's own.
  absl::StatusOr<std::string> FederatedTrustDomain(
      const std::string& name) const;
  // `bundle` checked and its trust domain normalised.
  absl::StatusOr<Bundle> Validated(Bundle bundle) const;

  storage::IdentityStorage* const storage_;
  ca::CaManager* const ca_;
  EntryManager* const entries_;
  absl::Mutex mu_;  // Serialises check-then-write sequences.
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_BUNDLE_MANAGER_H_
