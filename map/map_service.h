// trillian.TrillianMap and trillian.TrillianMapWrite over gRPC: translate
// requests to the MapManager.
#ifndef TRELLIS_MAP_MAP_SERVICE_H_
#define TRELLIS_MAP_MAP_SERVICE_H_

#include "map/map_manager.h"
#include "trillian_map_api.grpc.pb.h"
#include "util/thread_pool.h"

namespace trellis::map {

// Write calls that may wait for a write thread; more are refused with
// RESOURCE_EXHAUSTED.
inline constexpr size_t kDefaultMaxQueuedMapWrites = 64;

class MapService final : public trillian::TrillianMap::CallbackService {
 public:
  // Writes run on `write_pool` (they wait for synced commits); reads inline.
  MapService(MapManager* manager, ThreadPool* write_pool,
             size_t max_queued_writes = kDefaultMaxQueuedMapWrites)
      : manager_(manager),
        write_pool_(write_pool),
        max_queued_writes_(max_queued_writes) {}

  grpc::ServerUnaryReactor* GetLeaf(
      grpc::CallbackServerContext* context,
      const trillian::GetMapLeafRequest* request,
      trillian::GetMapLeafResponse* response) override;
  grpc::ServerUnaryReactor* GetLeafByRevision(
      grpc::CallbackServerContext* context,
      const trillian::GetMapLeafByRevisionRequest* request,
      trillian::GetMapLeafResponse* response) override;
  grpc::ServerUnaryReactor* GetLeaves(
      grpc::CallbackServerContext* context,
      const trillian::GetMapLeavesRequest* request,
      trillian::GetMapLeavesResponse* response) override;
  grpc::ServerUnaryReactor* GetLeavesByRevision(
      grpc::CallbackServerContext* context,
      const trillian::GetMapLeavesByRevisionRequest* request,
      trillian::GetMapLeavesResponse* response) override;
  grpc::ServerUnaryReactor* GetLeavesByRevisionNoProof(
      grpc::CallbackServerContext* context,
      const trillian::GetMapLeavesByRevisionRequest* request,
      trillian::MapLeaves* response) override;
  grpc::ServerUnaryReactor* GetLastInRangeByRevision(
      grpc::CallbackServerContext* context,
      const trillian::GetLastInRangeByRevisionRequest* request,
      trillian::MapLeaf* response) override;
  grpc::ServerUnaryReactor* SetLeaves(
      grpc::CallbackServerContext* context,
      const trillian::SetMapLeavesRequest* request,
      trillian::SetMapLeavesResponse* response) override;
  grpc::ServerUnaryReactor* GetSignedMapRoot(
      grpc::CallbackServerContext* context,
      const trillian::GetSignedMapRootRequest* request,
      trillian::GetSignedMapRootResponse* response) override;
  grpc::ServerUnaryReactor* GetSignedMapRootByRevision(
      grpc::CallbackServerContext* context,
      const trillian::GetSignedMapRootByRevisionRequest* request,
      trillian::GetSignedMapRootResponse* response) override;
  grpc::ServerUnaryReactor* InitMap(
      grpc::CallbackServerContext* context,
      const trillian::InitMapRequest* request,
      trillian::InitMapResponse* response) override;

 private:
  MapManager* const manager_;
  ThreadPool* const write_pool_;
  const size_t max_queued_writes_;
};

class MapWriteService final
    : public trillian::TrillianMapWrite::CallbackService {
 public:
  MapWriteService(MapManager* manager, ThreadPool* write_pool,
                  size_t max_queued_writes = kDefaultMaxQueuedMapWrites)
      : manager_(manager),
        write_pool_(write_pool),
        max_queued_writes_(max_queued_writes) {}

  grpc::ServerUnaryReactor* GetLeavesByRevision(
      grpc::CallbackServerContext* context,
      const trillian::GetMapLeavesByRevisionRequest* request,
      trillian::MapLeaves* response) override;
  grpc::ServerUnaryReactor* WriteLeaves(
      grpc::CallbackServerContext* context,
      const trillian::WriteMapLeavesRequest* request,
      trillian::WriteMapLeavesResponse* response) override;

 private:
  MapManager* const manager_;
  ThreadPool* const write_pool_;
  const size_t max_queued_writes_;
};

}  // namespace trellis::map

#endif  // TRELLIS_MAP_MAP_SERVICE_H_
