// trillian.TrillianLog over gRPC with Trillian v1.3.11's semantics: request
// validation, tree type/state rules, server-skew answers, de-duplication.
#ifndef TRELLIS_LOG_LOG_SERVICE_H_
#define TRELLIS_LOG_LOG_SERVICE_H_

#include "log/log_root.h"
#include "log/root_signer.h"
#include "storage/log_storage.h"
#include "storage/tree_storage.h"
#include "trillian_log_api.grpc.pb.h"

namespace trellis::log {

struct LogServiceOptions {
  // Most leaves accepted in one QueueLeaves / AddSequencedLeaves call.
  size_t max_leaves_per_request = 50000;
  // Most leaves returned by one read (GetLeavesByRange returns fewer;
  // GetLeavesByIndex / ByHash refuse more).
  size_t max_leaves_per_read = 1000;
};

class LogService final : public trillian::TrillianLog::Service {
 public:
  LogService(storage::TreeStorage* trees, storage::LogStorage* logs,
             SignerProvider signers, LogServiceOptions options = {})
      : trees_(trees),
        logs_(logs),
        signers_(std::move(signers)),
        options_(options) {}

  grpc::Status QueueLeaf(grpc::ServerContext*,
                         const trillian::QueueLeafRequest* request,
                         trillian::QueueLeafResponse* response) override;
  grpc::Status QueueLeaves(grpc::ServerContext*,
                           const trillian::QueueLeavesRequest* request,
                           trillian::QueueLeavesResponse* response) override;
  grpc::Status AddSequencedLeaf(
      grpc::ServerContext*, const trillian::AddSequencedLeafRequest* request,
      trillian::AddSequencedLeafResponse* response) override;
  grpc::Status AddSequencedLeaves(
      grpc::ServerContext*, const trillian::AddSequencedLeavesRequest* request,
      trillian::AddSequencedLeavesResponse* response) override;
  grpc::Status GetInclusionProof(
      grpc::ServerContext*, const trillian::GetInclusionProofRequest* request,
      trillian::GetInclusionProofResponse* response) override;
  grpc::Status GetInclusionProofByHash(
      grpc::ServerContext*,
      const trillian::GetInclusionProofByHashRequest* request,
      trillian::GetInclusionProofByHashResponse* response) override;
  grpc::Status GetConsistencyProof(
      grpc::ServerContext*, const trillian::GetConsistencyProofRequest* request,
      trillian::GetConsistencyProofResponse* response) override;
  grpc::Status GetLatestSignedLogRoot(
      grpc::ServerContext*,
      const trillian::GetLatestSignedLogRootRequest* request,
      trillian::GetLatestSignedLogRootResponse* response) override;
  grpc::Status GetSequencedLeafCount(
      grpc::ServerContext*,
      const trillian::GetSequencedLeafCountRequest* request,
      trillian::GetSequencedLeafCountResponse* response) override;
  grpc::Status GetEntryAndProof(
      grpc::ServerContext*, const trillian::GetEntryAndProofRequest* request,
      trillian::GetEntryAndProofResponse* response) override;
  grpc::Status InitLog(grpc::ServerContext*,
                       const trillian::InitLogRequest* request,
                       trillian::InitLogResponse* response) override;
  grpc::Status GetLeavesByIndex(
      grpc::ServerContext*, const trillian::GetLeavesByIndexRequest* request,
      trillian::GetLeavesByIndexResponse* response) override;
  grpc::Status GetLeavesByRange(
      grpc::ServerContext*, const trillian::GetLeavesByRangeRequest* request,
      trillian::GetLeavesByRangeResponse* response) override;
  grpc::Status GetLeavesByHash(
      grpc::ServerContext*, const trillian::GetLeavesByHashRequest* request,
      trillian::GetLeavesByHashResponse* response) override;

 private:
  // What a request intends to do to a tree; decides which types and states
  // are allowed.
  enum class Access { kRead, kInit, kQueue, kSequence };

  // The latest signed root and its parsed form.
  struct Head {
    trillian::SignedLogRoot signed_root;
    LogRootV1 root;
  };

  absl::StatusOr<trillian::Tree> TreeFor(int64_t tree_id, Access access);
  // FAILED_PRECONDITION if the log was never initialised.
  absl::StatusOr<Head> LatestHead(int64_t tree_id);
  // Validates and fills server-side fields of submitted leaves.
  absl::StatusOr<std::vector<trillian::LogLeaf>> PrepareLeaves(
      const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& in,
      bool keep_index);

  storage::TreeStorage* const trees_;
  storage::LogStorage* const logs_;
  const SignerProvider signers_;
  const LogServiceOptions options_;
};

}  // namespace trellis::log

#endif  // TRELLIS_LOG_LOG_SERVICE_H_
