#include "witness/witness_http.h"

#include "absl/strings/str_cat.h"
#include "tlog/witness_protocol.h"

namespace trellis::witness {
namespace {

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
      return 400;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kFailedPrecondition:
      return 422;
    default:
      return 500;
  }
}

}  // namespace

void AddWitnessRoutes(Witness* witness, http::Router& router) {
  router.Post("/add-checkpoint", [witness](const http::Request& request,
                                           http::Response& response) {
    uint64_t witness_size = 0;
    absl::StatusOr<std::string> cosignature =
        witness->AddCheckpoint(request.body, &witness_size);
    response.headers.emplace_back("Cache-Control", "no-store");
    if (cosignature.ok()) {
      response.content_type = "text/plain; charset=utf-8";
      response.body = std::move(*cosignature);
      return;
    }
    response.status = HttpStatusOf(cosignature.status());
    if (response.status == 409) {
      response.content_type = tlog::kTlogSizeContentType;
      response.body = tlog::FormatTlogSize(witness_size);
      return;
    }
    response.content_type = "text/plain; charset=utf-8";
    response.body = response.status == 500
                        ? "internal error\n"
                        : absl::StrCat(cosignature.status().message(), "\n");
  });
}

}  // namespace trellis::witness
