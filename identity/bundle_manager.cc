#include "identity/bundle_manager.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ca/x509.h"
#include "crypto/keys.h"
#include "spiffe/id.h"

namespace trellis::identity {
namespace {

absl::Status ValidateAuthorities(
    const google::protobuf::RepeatedPtrField<
        spire::api::types::X509Certificate>& x509,
    const google::protobuf::RepeatedPtrField<spire::api::types::JWTKey>& jwt) {
  if (x509.size() > kMaxBundleAuthorities ||
      jwt.size() > kMaxBundleAuthorities) {
    return absl::InvalidArgumentError(
        absl::StrCat("a bundle holds at most ", kMaxBundleAuthorities,
                     " X.509 and as many JWT authorities"));
  }
  for (const spire::api::types::X509Certificate& authority : x509) {
    absl::StatusOr<ca::CertificateInfo> info =
        ca::DescribeCertificate(authority.asn1());
    if (!info.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "X.509 authority is not a certificate: ", info.status().message()));
    }
  }
  for (const spire::api::types::JWTKey& key : jwt) {
    if (key.key_id().empty()) {
      return absl::InvalidArgumentError("JWT authority without a key ID");
    }
    if (!crypto::ParsePublicKey(key.public_key()).ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "JWT authority ", key.key_id(), " is not a PKIX public key"));
    }
  }
  return absl::OkStatus();
}

bool FederatesWith(const Entry& entry, const std::string& trust_domain) {
  return std::any_of(
      entry.federates_with().begin(), entry.federates_with().end(),
      [&trust_domain](const std::string& name) {
        absl::StatusOr<std::string> td = spiffe::ValidateTrustDomain(name);
        return td.ok() && *td == trust_domain;
      });
}

}  // namespace

BundleManager::BundleManager(storage::IdentityStorage* storage,
                             ca::CaManager* ca, EntryManager* entries)
    : storage_(storage), ca_(ca), entries_(entries) {}

absl::StatusOr<std::string> BundleManager::FederatedTrustDomain(
    const std::string& name) const {
  absl::StatusOr<std::string> td = spiffe::ValidateTrustDomain(name);
  if (!td.ok()) return td.status();
  if (*td == ca_->options().trust_domain) {
    return absl::InvalidArgumentError(
        "the server's own trust domain has no federated bundle");
  }
  return td;
}

absl::StatusOr<Bundle> BundleManager::Validated(Bundle bundle) const {
  absl::StatusOr<std::string> td = FederatedTrustDomain(bundle.trust_domain());
  if (!td.ok()) return td.status();
  bundle.set_trust_domain(*td);
  if (absl::Status s = ValidateAuthorities(bundle.x509_authorities(),
                                           bundle.jwt_authorities());
      !s.ok()) {
    return s;
  }
  if (bundle.refresh_hint() < 0) {
    return absl::InvalidArgumentError("refresh_hint must not be negative");
  }
  return bundle;
}

absl::StatusOr<Bundle> BundleManager::Append(
    const std::vector<spire::api::types::X509Certificate>& x509,
    const std::vector<spire::api::types::JWTKey>& jwt) {
  google::protobuf::RepeatedPtrField<spire::api::types::X509Certificate>
      x509_field(x509.begin(), x509.end());
  google::protobuf::RepeatedPtrField<spire::api::types::JWTKey> jwt_field(
      jwt.begin(), jwt.end());
  if (absl::Status s = ValidateAuthorities(x509_field, jwt_field); !s.ok()) {
    return s;
  }
  std::vector<std::string> roots;
  for (const spire::api::types::X509Certificate& authority : x509) {
    roots.push_back(authority.asn1());
  }
  return ca_->AppendAuthorities(roots, jwt);
}

absl::StatusOr<std::vector<spire::api::types::JWTKey>>
BundleManager::PublishJwtAuthority(const std::string& caller_id,
                                   const spire::api::types::JWTKey& key) {
  absl::StatusOr<Entry> downstream = entries_->DownstreamEntry(caller_id);
  if (!downstream.ok()) return downstream.status();
  absl::StatusOr<Bundle> bundle = Append({}, {key});
  if (!bundle.ok()) return bundle.status();
  return std::vector<spire::api::types::JWTKey>(
      bundle->jwt_authorities().begin(), bundle->jwt_authorities().end());
}

absl::StatusOr<Bundle> BundleManager::GetFederated(
    const std::string& trust_domain) {
  absl::StatusOr<std::string> td = FederatedTrustDomain(trust_domain);
  if (!td.ok()) return td.status();
  absl::StatusOr<std::optional<Bundle>> held =
      storage_->GetFederatedBundle(*td);
  if (!held.ok()) return held.status();
  if (!held->has_value()) return absl::NotFoundError("bundle not found");
  return **held;
}

absl::StatusOr<BundleManager::Page> BundleManager::ListFederated(
    int32_t page_size, const std::string& page_token) {
  if (page_size < 0) {
    return absl::InvalidArgumentError("page_size must not be negative");
  }
  absl::StatusOr<std::vector<Bundle>> all = storage_->ListFederatedBundles();
  if (!all.ok()) return all.status();
  Page page;
  for (Bundle& bundle : *all) {
    if (!page_token.empty() && bundle.trust_domain() <= page_token) continue;
    if (page_size > 0 &&
        static_cast<int32_t>(page.bundles.size()) == page_size) {
      page.next_page_token = page.bundles.back().trust_domain();
      break;
    }
    page.bundles.push_back(std::move(bundle));
  }
  return page;
}

absl::StatusOr<int32_t> BundleManager::Count() {
  absl::StatusOr<std::vector<Bundle>> all = storage_->ListFederatedBundles();
  if (!all.ok()) return all.status();
  return static_cast<int32_t>(all->size()) + 1;
}

absl::StatusOr<Bundle> BundleManager::Create(Bundle bundle) {
  absl::StatusOr<Bundle> valid = Validated(std::move(bundle));
  if (!valid.ok()) return valid.status();
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::optional<Bundle>> held =
      storage_->GetFederatedBundle(valid->trust_domain());
  if (!held.ok()) return held.status();
  if (held->has_value())
    return absl::AlreadyExistsError("bundle already exists");
  if (absl::Status s = storage_->PutFederatedBundle(*valid); !s.ok()) return s;
  return valid;
}

absl::StatusOr<Bundle> BundleManager::Update(
    Bundle bundle, const spire::api::types::BundleMask* mask) {
  absl::StatusOr<Bundle> valid = Validated(std::move(bundle));
  if (!valid.ok()) return valid.status();
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::optional<Bundle>> held =
      storage_->GetFederatedBundle(valid->trust_domain());
  if (!held.ok()) return held.status();
  if (!held->has_value()) return absl::NotFoundError("bundle not found");
  Bundle updated = std::move(**held);
  if (mask == nullptr || mask->x509_authorities()) {
    *updated.mutable_x509_authorities() = valid->x509_authorities();
  }
  if (mask == nullptr || mask->jwt_authorities()) {
    *updated.mutable_jwt_authorities() = valid->jwt_authorities();
  }
  if (mask == nullptr || mask->refresh_hint()) {
    updated.set_refresh_hint(valid->refresh_hint());
  }
  if (mask == nullptr || mask->sequence_number()) {
    updated.set_sequence_number(valid->sequence_number());
  }
  if (absl::Status s = storage_->PutFederatedBundle(updated); !s.ok()) {
    return s;
  }
  return updated;
}

absl::StatusOr<Bundle> BundleManager::Set(Bundle bundle) {
  absl::StatusOr<Bundle> valid = Validated(std::move(bundle));
  if (!valid.ok()) return valid.status();
  absl::MutexLock lock(&mu_);
  if (absl::Status s = storage_->PutFederatedBundle(*valid); !s.ok()) return s;
  return valid;
}

absl::Status BundleManager::Delete(const std::string& trust_domain,
                                   DeleteMode mode) {
  absl::StatusOr<std::string> td = FederatedTrustDomain(trust_domain);
  if (!td.ok()) return td.status();
  absl::MutexLock lock(&mu_);
  absl::StatusOr<std::optional<Bundle>> held =
      storage_->GetFederatedBundle(*td);
  if (!held.ok()) return held.status();
  if (!held->has_value()) return absl::NotFoundError("bundle not found");
  std::vector<Entry> federating;
  for (Entry& entry : entries_->List()) {
    if (FederatesWith(entry, *td)) federating.push_back(std::move(entry));
  }
  if (!federating.empty()) {
    switch (mode) {
      case spire::api::server::bundle::v1::BatchDeleteFederatedBundleRequest::
          DELETE: {
        std::vector<std::string> ids;
        for (const Entry& entry : federating) ids.push_back(entry.id());
        for (const absl::Status& s : entries_->Delete(ids)) {
          if (!s.ok() && !absl::IsNotFound(s)) return s;
        }
        break;
      }
      case spire::api::server::bundle::v1::BatchDeleteFederatedBundleRequest::
          DISSOCIATE: {
        for (Entry& entry : federating) {
          google::protobuf::RepeatedPtrField<std::string> kept;
          for (const std::string& name : entry.federates_with()) {
            absl::StatusOr<std::string> other =
                spiffe::ValidateTrustDomain(name);
            if (!other.ok() || *other != *td) *kept.Add() = name;
          }
          *entry.mutable_federates_with() = std::move(kept);
        }
        for (const absl::StatusOr<Entry>& updated :
             entries_->Update(std::move(federating))) {
          if (!updated.ok() && !absl::IsNotFound(updated.status())) {
            return updated.status();
          }
        }
        break;
      }
      default:
        return absl::FailedPreconditionError(
            absl::StrCat("cannot delete bundle; it is federated with ",
                         federating.size(), " registration entries"));
    }
  }
  return storage_->DeleteFederatedBundle(*td);
}

}  // namespace trellis::identity
