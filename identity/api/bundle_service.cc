#include "identity/api/bundle_service.h"

#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "identity/api/convert.h"
#include "util/grpc_status.h"

namespace trellis::identity::api {

namespace bundle_v1 = spire::api::server::bundle::v1;
using spire::api::types::BundleMask;

namespace {

// `bundle` with only the fields `mask` names (all without a mask); the
// trust domain is always there.
Bundle Masked(Bundle bundle, const BundleMask* mask) {
  if (mask == nullptr) return bundle;
  if (!mask->x509_authorities()) bundle.clear_x509_authorities();
  if (!mask->jwt_authorities()) bundle.clear_jwt_authorities();
  if (!mask->refresh_hint()) bundle.clear_refresh_hint();
  if (!mask->sequence_number()) bundle.clear_sequence_number();
  return bundle;
}

template <typename Request>
const BundleMask* OutputMask(const Request& request) {
  return request.has_output_mask() ? &request.output_mask() : nullptr;
}

// One result per bundle of a batch, each with its status.
template <typename Response>
grpc::Status BatchResults(
    const google::protobuf::RepeatedPtrField<Bundle>& bundles,
    const BundleMask* mask, Response* response,
    absl::FunctionRef<absl::StatusOr<Bundle>(const Bundle&)> apply) {
  if (static_cast<size_t>(bundles.size()) > kMaxEntryBatch) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("at most ", kMaxEntryBatch, " bundles per batch"));
  }
  for (const Bundle& bundle : bundles) {
    auto* result = response->add_results();
    absl::StatusOr<Bundle> done = apply(bundle);
    *result->mutable_status() = ToApiStatus(done.status());
    if (done.ok()) *result->mutable_bundle() = Masked(*done, mask);
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::Status BundleService::GetBundle(
    grpc::ServerContext*, const bundle_v1::GetBundleRequest* request,
    spire::api::types::Bundle* response) {
  *response = Masked(authority_.ca->Bundle(), OutputMask(*request));
  return grpc::Status::OK;
}

grpc::Status BundleService::AppendBundle(
    grpc::ServerContext* context, const bundle_v1::AppendBundleRequest* request,
    spire::api::types::Bundle* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  absl::StatusOr<Bundle> bundle = bundles_->Append(
      {request->x509_authorities().begin(), request->x509_authorities().end()},
      {request->jwt_authorities().begin(), request->jwt_authorities().end()});
  if (!bundle.ok()) return ToGrpc(bundle.status());
  *response = Masked(*bundle, OutputMask(*request));
  return grpc::Status::OK;
}

grpc::Status BundleService::PublishJWTAuthority(
    grpc::ServerContext* context,
    const bundle_v1::PublishJWTAuthorityRequest* request,
    bundle_v1::PublishJWTAuthorityResponse* response) {
  absl::StatusOr<ca::VerifiedSvid> caller = RequireSvid(authority_, *context);
  if (!caller.ok()) return ToGrpc(caller.status());
  if (!request->has_jwt_authority()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                        "missing JWT authority");
  }
  absl::StatusOr<std::vector<spire::api::types::JWTKey>> keys =
      bundles_->PublishJwtAuthority(caller->spiffe_id,
                                    request->jwt_authority());
  if (!keys.ok()) return ToGrpc(keys.status());
  for (spire::api::types::JWTKey& key : *keys) {
    *response->add_jwt_authorities() = std::move(key);
  }
  return grpc::Status::OK;
}

grpc::Status BundleService::GetFederatedBundle(
    grpc::ServerContext* context,
    const bundle_v1::GetFederatedBundleRequest* request,
    spire::api::types::Bundle* response) {
  if (!authority_.operators->IsOperator(*context)) {
    absl::StatusOr<trellis::AttestedAgent> agent =
        RequireAgent(authority_, *context);
    if (!agent.ok()) return ToGrpc(agent.status());
  }
  absl::StatusOr<Bundle> bundle =
      bundles_->GetFederated(request->trust_domain());
  if (!bundle.ok()) return ToGrpc(bundle.status());
  *response = Masked(*bundle, OutputMask(*request));
  return grpc::Status::OK;
}

grpc::Status BundleService::ListFederatedBundles(
    grpc::ServerContext* context,
    const bundle_v1::ListFederatedBundlesRequest* request,
    bundle_v1::ListFederatedBundlesResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  absl::StatusOr<BundleManager::Page> page =
      bundles_->ListFederated(request->page_size(), request->page_token());
  if (!page.ok()) return ToGrpc(page.status());
  for (Bundle& bundle : page->bundles) {
    *response->add_bundles() = Masked(std::move(bundle), OutputMask(*request));
  }
  response->set_next_page_token(page->next_page_token);
  return grpc::Status::OK;
}

grpc::Status BundleService::CountBundles(
    grpc::ServerContext* context, const bundle_v1::CountBundlesRequest*,
    bundle_v1::CountBundlesResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  absl::StatusOr<int32_t> count = bundles_->Count();
  if (!count.ok()) return ToGrpc(count.status());
  response->set_count(*count);
  return grpc::Status::OK;
}

grpc::Status BundleService::BatchCreateFederatedBundle(
    grpc::ServerContext* context,
    const bundle_v1::BatchCreateFederatedBundleRequest* request,
    bundle_v1::BatchCreateFederatedBundleResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  return BatchResults(
      request->bundle(), OutputMask(*request), response,
      [this](const Bundle& bundle) { return bundles_->Create(bundle); });
}

grpc::Status BundleService::BatchUpdateFederatedBundle(
    grpc::ServerContext* context,
    const bundle_v1::BatchUpdateFederatedBundleRequest* request,
    bundle_v1::BatchUpdateFederatedBundleResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  const BundleMask* input =
      request->has_input_mask() ? &request->input_mask() : nullptr;
  return BatchResults(request->bundle(), OutputMask(*request), response,
                      [this, input](const Bundle& bundle) {
                        return bundles_->Update(bundle, input);
                      });
}

grpc::Status BundleService::BatchSetFederatedBundle(
    grpc::ServerContext* context,
    const bundle_v1::BatchSetFederatedBundleRequest* request,
    bundle_v1::BatchSetFederatedBundleResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  return BatchResults(
      request->bundle(), OutputMask(*request), response,
      [this](const Bundle& bundle) { return bundles_->Set(bundle); });
}

grpc::Status BundleService::BatchDeleteFederatedBundle(
    grpc::ServerContext* context,
    const bundle_v1::BatchDeleteFederatedBundleRequest* request,
    bundle_v1::BatchDeleteFederatedBundleResponse* response) {
  if (absl::Status s = RequireOperator(authority_, *context); !s.ok()) {
    return ToGrpc(s);
  }
  if (static_cast<size_t>(request->trust_domains_size()) > kMaxEntryBatch) {
    return grpc::Status(
        grpc::StatusCode::INVALID_ARGUMENT,
        absl::StrCat("at most ", kMaxEntryBatch, " bundles per batch"));
  }
  for (const std::string& trust_domain : request->trust_domains()) {
    auto* result = response->add_results();
    result->set_trust_domain(trust_domain);
    *result->mutable_status() =
        ToApiStatus(bundles_->Delete(trust_domain, request->mode()));
  }
  return grpc::Status::OK;
}

}  // namespace trellis::identity::api
