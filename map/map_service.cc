#include "map/map_service.h"

#include "map/map_root.h"
#include "util/grpc_callback.h"
#include "util/grpc_status.h"

namespace trellis::map {
namespace {

using google::protobuf::RepeatedPtrField;

grpc::Status NegativeRevision() {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      "map revision must be >= 0");
}

// Leaves with proofs at `revision` (-1: latest) into a GetMapLeavesResponse.
grpc::Status LeavesWithProofs(MapManager& manager, int64_t map_id,
                              int64_t revision,
                              const RepeatedPtrField<std::string>& indices,
                              trillian::GetMapLeavesResponse* response) {
  absl::StatusOr<MapManager::Leaves> leaves =
      manager.GetLeaves(map_id, revision, indices, /*with_proofs=*/true);
  if (!leaves.ok()) return ToGrpc(leaves.status());
  for (trillian::MapLeafInclusion& inclusion : leaves->inclusions) {
    *response->add_map_leaf_inclusion() = std::move(inclusion);
  }
  *response->mutable_map_root() = std::move(leaves->root);
  return grpc::Status::OK;
}

// One index, as the single-leaf RPCs ask.
grpc::Status OneLeaf(MapManager& manager, int64_t map_id, int64_t revision,
                     const std::string& index,
                     trillian::GetMapLeafResponse* response) {
  RepeatedPtrField<std::string> indices;
  *indices.Add() = index;
  trillian::GetMapLeavesResponse leaves;
  grpc::Status s =
      LeavesWithProofs(manager, map_id, revision, indices, &leaves);
  if (!s.ok()) return s;
  *response->mutable_map_leaf_inclusion() =
      std::move(*leaves.mutable_map_leaf_inclusion(0));
  *response->mutable_map_root() = std::move(*leaves.mutable_map_root());
  return grpc::Status::OK;
}

// Stored leaves only, without proofs or leaf hashes (Trillian's NoProof
// reads).
grpc::Status LeavesWithoutProofs(MapManager& manager, int64_t map_id,
                                 int64_t revision,
                                 const RepeatedPtrField<std::string>& indices,
                                 trillian::MapLeaves* response) {
  if (revision < 0) return NegativeRevision();
  absl::StatusOr<MapManager::Leaves> leaves =
      manager.GetLeaves(map_id, revision, indices, /*with_proofs=*/false);
  if (!leaves.ok()) return ToGrpc(leaves.status());
  for (trillian::MapLeafInclusion& inclusion : leaves->inclusions) {
    if (inclusion.leaf().leaf_hash().empty()) continue;  // Never set.
    trillian::MapLeaf* leaf = response->add_leaves();
    *leaf = std::move(*inclusion.mutable_leaf());
    leaf->clear_leaf_hash();
  }
  return grpc::Status::OK;
}

}  // namespace

grpc::ServerUnaryReactor* MapService::GetLeaf(
    grpc::CallbackServerContext* context,
    const trillian::GetMapLeafRequest* request,
    trillian::GetMapLeafResponse* response) {
  return RunUnary(context, nullptr, 0, [=]() -> grpc::Status {
    return OneLeaf(*manager_, request->map_id(), -1, request->index(),
                   response);
  });
}

grpc::ServerUnaryReactor* MapService::GetLeafByRevision(
    grpc::CallbackServerContext* context,
    const trillian::GetMapLeafByRevisionRequest* request,
    trillian::GetMapLeafResponse* response) {
  return RunUnary(context, nullptr, 0, [=]() -> grpc::Status {
    if (request->revision() < 0) return NegativeRevision();
    return OneLeaf(*manager_, request->map_id(), request->revision(),
                   request->index(), response);
  });
}

grpc::ServerUnaryReactor* MapService::GetLeaves(
    grpc::CallbackServerContext* context,
    const trillian::GetMapLeavesRequest* request,
    trillian::GetMapLeavesResponse* response) {
  return RunUnary(context, nullptr, 0, [=]() -> grpc::Status {
    return LeavesWithProofs(*manager_, request->map_id(), -1, request->index(),
                            response);
  });
}

grpc::ServerUnaryReactor* MapService::GetLeavesByRevision(
    grpc::CallbackServerContext* context,
    const trillian::GetMapLeavesByRevisionRequest* request,
    trillian::GetMapLeavesResponse* response) {
  return RunUnary(context, nullptr, 0, [=]() -> grpc::Status {
    if (request->revision() < 0) return NegativeRevision();
    return LeavesWithProofs(*manager_, request->map_id(), request->revision(),
                            request->index(), response);
  });
}

grpc::ServerUnaryReactor* MapService::GetLeavesByRevisionNoProof(
    grpc::CallbackServerContext* context,
    const trillian::GetMapLeavesByRevisionRequest* request,
    trillian::MapLeaves* response) {
  return RunUnary(context, nullptr, 0, [=]() -> grpc::Status {
    return LeavesWithoutProofs(*manager_, request->map_id(),
                               request->revision(), request->index(), response);
  });
}

grpc::ServerUnaryReactor* MapService::GetLastInRangeByRevision(
    grpc::CallbackServerContext* context,
    const trillian::GetLastInRangeByRevisionRequest* request,
    trillian::MapLeaf* response) {
  return RunUnary(context, nullptr, 0, [=]() -> grpc::Status {
    if (request->revision() < 0) return NegativeRevision();
    absl::StatusOr<trillian::MapLeaf> leaf =
        manager_->LastInRange(request->map_id(), request->revision(),
                              request->prefix(), request->prefix_bits());
    if (!leaf.ok()) return ToGrpc(leaf.status());
    *response = std::move(*leaf);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MapService::SetLeaves(
    grpc::CallbackServerContext* context,
    const trillian::SetMapLeavesRequest* request,
    trillian::SetMapLeavesResponse* response) {
  return RunUnary(
      context, write_pool_, max_queued_writes_, [=]() -> grpc::Status {
        if (request->revision() <= 0) {
          return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                              "revision must be > 0");
        }
        absl::StatusOr<trillian::SignedMapRoot> root =
            manager_->Write(request->map_id(), request->leaves(),
                            request->metadata(), request->revision());
        if (!root.ok()) return ToGrpc(root.status());
        *response->mutable_map_root() = std::move(*root);
        return grpc::Status::OK;
      });
}

grpc::ServerUnaryReactor* MapService::GetSignedMapRoot(
    grpc::CallbackServerContext* context,
    const trillian::GetSignedMapRootRequest* request,
    trillian::GetSignedMapRootResponse* response) {
  return RunUnary(context, nullptr, 0, [=]() -> grpc::Status {
    absl::StatusOr<trillian::SignedMapRoot> root =
        manager_->Root(request->map_id(), -1);
    if (!root.ok()) return ToGrpc(root.status());
    *response->mutable_map_root() = std::move(*root);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MapService::GetSignedMapRootByRevision(
    grpc::CallbackServerContext* context,
    const trillian::GetSignedMapRootByRevisionRequest* request,
    trillian::GetSignedMapRootResponse* response) {
  return RunUnary(context, nullptr, 0, [=]() -> grpc::Status {
    if (request->revision() < 0) return NegativeRevision();
    absl::StatusOr<trillian::SignedMapRoot> root =
        manager_->Root(request->map_id(), request->revision());
    if (!root.ok()) return ToGrpc(root.status());
    *response->mutable_map_root() = std::move(*root);
    return grpc::Status::OK;
  });
}

grpc::ServerUnaryReactor* MapService::InitMap(
    grpc::CallbackServerContext* context,
    const trillian::InitMapRequest* request,
    trillian::InitMapResponse* response) {
  return RunUnary(context, write_pool_, max_queued_writes_,
                  [=]() -> grpc::Status {
                    absl::StatusOr<trillian::SignedMapRoot> root =
                        manager_->Init(request->map_id());
                    if (!root.ok()) return ToGrpc(root.status());
                    *response->mutable_created() = std::move(*root);
                    return grpc::Status::OK;
                  });
}

grpc::ServerUnaryReactor* MapWriteService::GetLeavesByRevision(
    grpc::CallbackServerContext* context,
    const trillian::GetMapLeavesByRevisionRequest* request,
    trillian::MapLeaves* response) {
  return RunUnary(context, nullptr, 0, [=]() -> grpc::Status {
    return LeavesWithoutProofs(*manager_, request->map_id(),
                               request->revision(), request->index(), response);
  });
}

grpc::ServerUnaryReactor* MapWriteService::WriteLeaves(
    grpc::CallbackServerContext* context,
    const trillian::WriteMapLeavesRequest* request,
    trillian::WriteMapLeavesResponse* response) {
  return RunUnary(
      context, write_pool_, max_queued_writes_, [=]() -> grpc::Status {
        if (request->expect_revision() < 0) {
          return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                              "expect_revision must not be negative");
        }
        absl::StatusOr<trillian::SignedMapRoot> root =
            manager_->Write(request->map_id(), request->leaves(),
                            request->metadata(), request->expect_revision());
        if (!root.ok()) return ToGrpc(root.status());
        absl::StatusOr<MapRootV1> parsed = ParseMapRoot(root->map_root());
        if (!parsed.ok()) return ToGrpc(parsed.status());
        response->set_revision(static_cast<int64_t>(parsed->revision));
        return grpc::Status::OK;
      });
}

}  // namespace trellis::map
