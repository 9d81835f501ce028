// trillian.TrillianMap and trillian.TrillianMapWrite over gRPC: translate
// requests to the MapManager.
#ifndef TRELLIS_MAP_MAP_SERVICE_H_
#define TRELLIS_MAP_MAP_SERVICE_H_

#include "map/map_manager.h"
#include "trillian_map_api.grpc.pb.h"

namespace trellis::map {

class MapService final : public trillian::TrillianMap::Service {
 public:
  explicit MapService(MapManager* manager) : manager_(manager) {}

  grpc::Status GetLeaf(grpc::ServerContext*,
                       const trillian::GetMapLeafRequest* request,
                       trillian::GetMapLeafResponse* response) override;
  grpc::Status GetLeafByRevision(
      grpc::ServerContext*,
      const trillian::GetMapLeafByRevisionRequest* request,
      trillian::GetMapLeafResponse* response) override;
  grpc::Status GetLeaves(grpc::ServerContext*,
                         const trillian::GetMapLeavesRequest* request,
                         trillian::GetMapLeavesResponse* response) override;
  grpc::Status GetLeavesByRevision(
      grpc::ServerContext*,
      const trillian::GetMapLeavesByRevisionRequest* request,
      trillian::GetMapLeavesResponse* response) override;
  grpc::Status GetLeavesByRevisionNoProof(
      grpc::ServerContext*,
      const trillian::GetMapLeavesByRevisionRequest* request,
      trillian::MapLeaves* response) override;
  grpc::Status GetLastInRangeByRevision(
      grpc::ServerContext*,
      const trillian::GetLastInRangeByRevisionRequest* request,
      trillian::MapLeaf* response) override;
  grpc::Status SetLeaves(grpc::ServerContext*,
                         const trillian::SetMapLeavesRequest* request,
                         trillian::SetMapLeavesResponse* response) override;
  grpc::Status GetSignedMapRoot(
      grpc::ServerContext*, const trillian::GetSignedMapRootRequest* request,
      trillian::GetSignedMapRootResponse* response) override;
  grpc::Status GetSignedMapRootByRevision(
      grpc::ServerContext*,
      const trillian::GetSignedMapRootByRevisionRequest* request,
      trillian::GetSignedMapRootResponse* response) override;
  grpc::Status InitMap(grpc::ServerContext*,
                       const trillian::InitMapRequest* request,
                       trillian::InitMapResponse* response) override;

 private:
  MapManager* const manager_;
};

class MapWriteService final : public trillian::TrillianMapWrite::Service {
 public:
  explicit MapWriteService(MapManager* manager) : manager_(manager) {}

  grpc::Status GetLeavesByRevision(
      grpc::ServerContext*,
      const trillian::GetMapLeavesByRevisionRequest* request,
      trillian::MapLeaves* response) override;
  grpc::Status WriteLeaves(grpc::ServerContext*,
                           const trillian::WriteMapLeavesRequest* request,
                           trillian::WriteMapLeavesResponse* response) override;

 private:
  MapManager* const manager_;
};

}  // namespace trellis::map

#endif  // TRELLIS_MAP_MAP_SERVICE_H_
