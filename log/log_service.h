// trillian.TrillianLog over gRPC with Trillian v1.3.11's wire contract: it
// translates each RPC to the LogManager (log_manager.h), which holds the
// rules, and runs writes on a bounded pool (queued leaves through the
// manager's QueueCoalescer, which writes concurrent calls together).
#ifndef TRELLIS_LOG_LOG_SERVICE_H_
#define TRELLIS_LOG_LOG_SERVICE_H_

#include <optional>

#include "log/log_manager.h"
#include "quota/quota_manager.h"
#include "trillian_log_api.grpc.pb.h"
#include "util/thread_pool.h"

namespace trellis::log {

struct LogServiceOptions {
  // Write calls that may wait for a write thread; more are refused with
  // RESOURCE_EXHAUSTED rather than held in memory without bound.
  size_t max_queued_writes = 1024;
};

class LogService final : public trillian::TrillianLog::CallbackService {
 public:
  // Writes, which wait for a synced commit, run on `write_pool` (queued
  // leaves: on the manager's coalescer) so that they never block gRPC's
  // callback threads; reads run inline. Without a pool,
  // everything runs inline. With `quotas`, each call made over gRPC is
  // charged first (the methods below taking no context are not).
  explicit LogService(LogManager* manager, LogServiceOptions options = {},
                      ThreadPool* write_pool = nullptr,
                      quota::QuotaManager* quotas = nullptr)
      : manager_(manager),
        options_(options),
        write_pool_(write_pool),
        quotas_(quotas != nullptr && quotas->enabled() ? quotas : nullptr) {}

  grpc::ServerUnaryReactor* QueueLeaf(
      grpc::CallbackServerContext* context,
      const trillian::QueueLeafRequest* request,
      trillian::QueueLeafResponse* response) override;
  grpc::ServerUnaryReactor* QueueLeaves(
      grpc::CallbackServerContext* context,
      const trillian::QueueLeavesRequest* request,
      trillian::QueueLeavesResponse* response) override;
  grpc::ServerUnaryReactor* AddSequencedLeaf(
      grpc::CallbackServerContext* context,
      const trillian::AddSequencedLeafRequest* request,
      trillian::AddSequencedLeafResponse* response) override;
  grpc::ServerUnaryReactor* AddSequencedLeaves(
      grpc::CallbackServerContext* context,
      const trillian::AddSequencedLeavesRequest* request,
      trillian::AddSequencedLeavesResponse* response) override;
  grpc::ServerUnaryReactor* GetInclusionProof(
      grpc::CallbackServerContext* context,
      const trillian::GetInclusionProofRequest* request,
      trillian::GetInclusionProofResponse* response) override;
  grpc::ServerUnaryReactor* GetInclusionProofByHash(
      grpc::CallbackServerContext* context,
      const trillian::GetInclusionProofByHashRequest* request,
      trillian::GetInclusionProofByHashResponse* response) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(
      grpc::CallbackServerContext* context,
      const trillian::GetConsistencyProofRequest* request,
      trillian::GetConsistencyProofResponse* response) override;
  grpc::ServerUnaryReactor* GetLatestSignedLogRoot(
      grpc::CallbackServerContext* context,
      const trillian::GetLatestSignedLogRootRequest* request,
      trillian::GetLatestSignedLogRootResponse* response) override;
  grpc::ServerUnaryReactor* GetSequencedLeafCount(
      grpc::CallbackServerContext* context,
      const trillian::GetSequencedLeafCountRequest* request,
      trillian::GetSequencedLeafCountResponse* response) override;
  grpc::ServerUnaryReactor* GetEntryAndProof(
      grpc::CallbackServerContext* context,
      const trillian::GetEntryAndProofRequest* request,
      trillian::GetEntryAndProofResponse* response) override;
  grpc::ServerUnaryReactor* InitLog(
      grpc::CallbackServerContext* context,
      const trillian::InitLogRequest* request,
      trillian::InitLogResponse* response) override;
  grpc::ServerUnaryReactor* GetLeavesByIndex(
      grpc::CallbackServerContext* context,
      const trillian::GetLeavesByIndexRequest* request,
      trillian::GetLeavesByIndexResponse* response) override;
  grpc::ServerUnaryReactor* GetLeavesByRange(
      grpc::CallbackServerContext* context,
      const trillian::GetLeavesByRangeRequest* request,
      trillian::GetLeavesByRangeResponse* response) override;
  grpc::ServerUnaryReactor* GetLeavesByHash(
      grpc::CallbackServerContext* context,
      const trillian::GetLeavesByHashRequest* request,
      trillian::GetLeavesByHashResponse* response) override;

  // The RPCs themselves, callable without gRPC (tests). The base's
  // overloads of the same names stay visible (-Woverloaded-virtual).
  using trillian::TrillianLog::CallbackService::AddSequencedLeaf;
  using trillian::TrillianLog::CallbackService::AddSequencedLeaves;
  using trillian::TrillianLog::CallbackService::GetConsistencyProof;
  using trillian::TrillianLog::CallbackService::GetEntryAndProof;
  using trillian::TrillianLog::CallbackService::GetInclusionProof;
  using trillian::TrillianLog::CallbackService::GetInclusionProofByHash;
  using trillian::TrillianLog::CallbackService::GetLatestSignedLogRoot;
  using trillian::TrillianLog::CallbackService::GetLeavesByHash;
  using trillian::TrillianLog::CallbackService::GetLeavesByIndex;
  using trillian::TrillianLog::CallbackService::GetLeavesByRange;
  using trillian::TrillianLog::CallbackService::GetSequencedLeafCount;
  using trillian::TrillianLog::CallbackService::InitLog;
  using trillian::TrillianLog::CallbackService::QueueLeaf;
  using trillian::TrillianLog::CallbackService::QueueLeaves;
  // Queue without the coalescer, waiting for the write.
  grpc::Status QueueLeaf(const trillian::QueueLeafRequest* request,
                         trillian::QueueLeafResponse* response);
  grpc::Status QueueLeaves(const trillian::QueueLeavesRequest* request,
                           trillian::QueueLeavesResponse* response);
  grpc::Status AddSequencedLeaf(
      const trillian::AddSequencedLeafRequest* request,
      trillian::AddSequencedLeafResponse* response);
  grpc::Status AddSequencedLeaves(
      const trillian::AddSequencedLeavesRequest* request,
      trillian::AddSequencedLeavesResponse* response);
  grpc::Status GetInclusionProof(
      const trillian::GetInclusionProofRequest* request,
      trillian::GetInclusionProofResponse* response);
  grpc::Status GetInclusionProofByHash(
      const trillian::GetInclusionProofByHashRequest* request,
      trillian::GetInclusionProofByHashResponse* response);
  grpc::Status GetConsistencyProof(
      const trillian::GetConsistencyProofRequest* request,
      trillian::GetConsistencyProofResponse* response);
  grpc::Status GetLatestSignedLogRoot(
      const trillian::GetLatestSignedLogRootRequest* request,
      trillian::GetLatestSignedLogRootResponse* response);
  grpc::Status GetSequencedLeafCount(
      const trillian::GetSequencedLeafCountRequest* request,
      trillian::GetSequencedLeafCountResponse* response);
  grpc::Status GetEntryAndProof(
      const trillian::GetEntryAndProofRequest* request,
      trillian::GetEntryAndProofResponse* response);
  grpc::Status InitLog(const trillian::InitLogRequest* request,
                       trillian::InitLogResponse* response);
  grpc::Status GetLeavesByIndex(
      const trillian::GetLeavesByIndexRequest* request,
      trillian::GetLeavesByIndexResponse* response);
  grpc::Status GetLeavesByRange(
      const trillian::GetLeavesByRangeRequest* request,
      trillian::GetLeavesByRangeResponse* response);
  grpc::Status GetLeavesByHash(const trillian::GetLeavesByHashRequest* request,
                               trillian::GetLeavesByHashResponse* response);

 private:
  // Runs `method` and finishes the call with its status, on the write pool
  // if `blocking`.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* Serve(
      grpc::CallbackServerContext* context, const Request* request,
      Response* response,
      grpc::Status (LogService::*method)(const Request*, Response*),
      bool blocking);

  // Queues through the manager's coalescer and finishes the call with
  // ReplyQueued once the write is durable.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* QueueThen(
      grpc::CallbackServerContext* context, const Request* request,
      const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& leaves,
      Response* response);

  // The request's quota charge, taken (nullopt if nothing is charged), or
  // the refusal.
  template <typename Request>
  absl::StatusOr<std::optional<quota::Charge>> Acquire(const Request& request);
  // Gives back what the call did not use.
  template <typename Response>
  void Settle(const std::optional<quota::Charge>& charge,
              const grpc::Status& status, const Response& response);

  LogManager* const manager_;
  const LogServiceOptions options_;
  ThreadPool* const write_pool_;
  quota::QuotaManager* const quotas_;  // Null: no quotas set.
};

}  // namespace trellis::log

#endif  // TRELLIS_LOG_LOG_SERVICE_H_
