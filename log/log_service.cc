#include "log/log_service.h"

#include <algorithm>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "util/grpc_callback.h"
#include "util/grpc_status.h"

namespace trellis::log {
namespace {

google::rpc::Status RpcStatus(const absl::Status& s) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(s.code()));
  out.set_message(std::string(s.message()));
  return out;
}

void FillProof(InclusionProof proof, trillian::Proof* out) {
  out->set_leaf_index(proof.leaf_index);
  for (std::string& h : proof.hashes) out->add_hashes(std::move(h));
}

// Leaves with the root they were read under.
template <typename Response>
grpc::Status ReplyLeaves(
    absl::StatusOr<AtHead<std::vector<trillian::LogLeaf>>> answer,
    Response* response) {
  if (!answer.ok()) return ToGrpc(answer.status());
  *response->mutable_signed_log_root() = std::move(answer->head.signed_root);
  if (answer->value.has_value()) {
    for (trillian::LogLeaf& leaf : *answer->value) {
      *response->add_leaves() = std::move(leaf);
    }
  }
  return grpc::Status::OK;
}

// Each leaf's outcome; one already held carries ALREADY_EXISTS.
grpc::Status ReplyQueued(
    absl::StatusOr<std::vector<storage::QueueOutcome>> outcomes,
    trillian::QueueLeavesResponse* response) {
  if (!outcomes.ok()) return ToGrpc(outcomes.status());
  for (storage::QueueOutcome& outcome : *outcomes) {
    trillian::QueuedLogLeaf* queued = response->add_queued_leaves();
    *queued->mutable_leaf() = std::move(outcome.leaf);
    if (!outcome.added) {
      *queued->mutable_status() =
          RpcStatus(absl::AlreadyExistsError("leaf already exists"));
    }
  }
  return grpc::Status::OK;
}

// QueueLeaf's answer: the one leaf's outcome.
grpc::Status ReplyQueued(
    absl::StatusOr<std::vector<storage::QueueOutcome>> outcomes,
    trillian::QueueLeafResponse* response) {
  trillian::QueueLeavesResponse batch;
  grpc::Status s = ReplyQueued(std::move(outcomes), &batch);
  if (s.ok()) {
    *response->mutable_queued_leaf() =
        std::move(*batch.mutable_queued_leaves(0));
  }
  return s;
}

// What a call costs, in Trillian's tokens: a leaf written, an answer read.
template <typename Request>
quota::Charge ChargeOf(const Request& request, quota::Kind kind,
                       int64_t tokens) {
  const auto& users = request.charge_to().user();
  return quota::Charge{request.log_id(), kind, std::max<int64_t>(tokens, 1),
                       std::vector<std::string>(users.begin(), users.end())};
}
template <typename Request>
quota::Charge ChargeFor(const Request& request) {
  return ChargeOf(request, quota::Kind::kRead, 1);
}
quota::Charge ChargeFor(const trillian::QueueLeafRequest& request) {
  return ChargeOf(request, quota::Kind::kWrite, 1);
}
quota::Charge ChargeFor(const trillian::QueueLeavesRequest& request) {
  return ChargeOf(request, quota::Kind::kWrite, request.leaves_size());
}
quota::Charge ChargeFor(const trillian::AddSequencedLeafRequest& request) {
  return ChargeOf(request, quota::Kind::kWrite, 1);
}
quota::Charge ChargeFor(const trillian::AddSequencedLeavesRequest& request) {
  return ChargeOf(request, quota::Kind::kWrite, request.leaves_size());
}
quota::Charge ChargeFor(const trillian::InitLogRequest& request) {
  return ChargeOf(request, quota::Kind::kWrite, 1);
}
quota::Charge ChargeFor(const trillian::GetLeavesByIndexRequest& request) {
  return ChargeOf(request, quota::Kind::kRead, request.leaf_index_size());
}
quota::Charge ChargeFor(const trillian::GetLeavesByRangeRequest& request) {
  return ChargeOf(request, quota::Kind::kRead, request.count());
}
quota::Charge ChargeFor(const trillian::GetLeavesByHashRequest& request) {
  return ChargeOf(request, quota::Kind::kRead, request.leaf_hash_size());
}

// Leaves a successful write did not add (duplicates, refusals).
int64_t NotAdded(const trillian::QueuedLogLeaf& leaf) {
  return leaf.has_status() && leaf.status().code() != 0 ? 1 : 0;
}
template <typename Response>
int64_t NotAdded(const Response&) {
  return 0;
}
int64_t NotAdded(const trillian::QueueLeafResponse& response) {
  return NotAdded(response.queued_leaf());
}
int64_t NotAdded(const trillian::AddSequencedLeafResponse& response) {
  return NotAdded(response.result());
}
int64_t NotAdded(const trillian::QueueLeavesResponse& response) {
  int64_t count = 0;
  for (const trillian::QueuedLogLeaf& leaf : response.queued_leaves()) {
    count += NotAdded(leaf);
  }
  return count;
}
int64_t NotAdded(const trillian::AddSequencedLeavesResponse& response) {
  int64_t count = 0;
  for (const trillian::QueuedLogLeaf& leaf : response.results()) {
    count += NotAdded(leaf);
  }
  return count;
}

google::protobuf::RepeatedPtrField<trillian::LogLeaf> OneLeaf(
    const trillian::QueueLeafRequest& request) {
  google::protobuf::RepeatedPtrField<trillian::LogLeaf> leaves;
  *leaves.Add() = request.leaf();
  return leaves;
}

}  // namespace

template <typename Request, typename Response>
grpc::ServerUnaryReactor* LogService::Serve(
    grpc::CallbackServerContext* context, const Request* request,
    Response* response,
    grpc::Status (LogService::*method)(const Request*, Response*),
    bool blocking) {
  // Charged before the call takes a place in the write queue, so that calls
  // beyond a quota never hold one.
  absl::StatusOr<std::optional<quota::Charge>> charge = Acquire(*request);
  if (!charge.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpc(charge.status()));
    return reactor;
  }
  std::function<void()> give_back;
  if (charge->has_value()) {
    // Refused for a full write queue: nothing was done.
    give_back = [this, given = **charge] {
      quotas_->Return(given, given.tokens);
    };
  }
  return RunUnary(
      context, blocking ? write_pool_ : nullptr, options_.max_queued_writes,
      [this, request, response, method, charge = *std::move(charge)] {
        const grpc::Status status = (this->*method)(request, response);
        Settle(charge, status, *response);
        return status;
      },
      std::move(give_back));
}

template <typename Request>
absl::StatusOr<std::optional<quota::Charge>> LogService::Acquire(
    const Request& request) {
  // Trees that do not exist are not charged (the call fails anyway): made-up
  // ids must not grow the quota tables or the metrics' series.
  if (quotas_ == nullptr || !manager_->HasTree(request.log_id())) {
    return std::nullopt;
  }
  quota::Charge charge = ChargeFor(request);
  if (charge.kind == quota::Kind::kRead) {
    // A read is charged for what it can return, not for what it asks.
    charge.tokens = std::min<int64_t>(
        charge.tokens, static_cast<int64_t>(manager_->max_leaves_per_read()));
  }
  if (absl::Status s = quotas_->Acquire(charge); !s.ok()) return s;
  return charge;
}

template <typename Response>
void LogService::Settle(const std::optional<quota::Charge>& charge,
                        const grpc::Status& status, const Response& response) {
  if (!charge.has_value()) return;
  quotas_->Return(*charge, status.ok() ? NotAdded(response) : charge->tokens);
}

// Queued writes go through the manager's coalescer when it takes them;
// others (large calls, or no coalescer) run on the pool.
grpc::ServerUnaryReactor* LogService::QueueLeaf(
    grpc::CallbackServerContext* context,
    const trillian::QueueLeafRequest* request,
    trillian::QueueLeafResponse* response) {
  if (!manager_->Coalesces(1)) {
    return Serve(context, request, response, &LogService::QueueLeaf,
                 /*blocking=*/true);
  }
  return QueueThen(context, request, OneLeaf(*request), response);
}

grpc::ServerUnaryReactor* LogService::QueueLeaves(
    grpc::CallbackServerContext* context,
    const trillian::QueueLeavesRequest* request,
    trillian::QueueLeavesResponse* response) {
  if (!manager_->Coalesces(request->leaves_size())) {
    return Serve(context, request, response, &LogService::QueueLeaves,
                 /*blocking=*/true);
  }
  return QueueThen(context, request, request->leaves(), response);
}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* LogService::QueueThen(
    grpc::CallbackServerContext* context, const Request* request,
    const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& leaves,
    Response* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<std::optional<quota::Charge>> charge = Acquire(*request);
  if (!charge.ok()) {
    reactor->Finish(ToGrpc(charge.status()));
    return reactor;
  }
  manager_->QueueLeavesThen(
      request->log_id(), leaves,
      [this, reactor, response, charge = *std::move(charge)](
          absl::StatusOr<std::vector<storage::QueueOutcome>> outcomes) {
        const grpc::Status status = ReplyQueued(std::move(outcomes), response);
        Settle(charge, status, *response);
        reactor->Finish(status);
      });
  return reactor;
}

grpc::ServerUnaryReactor* LogService::AddSequencedLeaf(
    grpc::CallbackServerContext* context,
    const trillian::AddSequencedLeafRequest* request,
    trillian::AddSequencedLeafResponse* response) {
  return Serve(context, request, response, &LogService::AddSequencedLeaf,
               /*blocking=*/true);
}

grpc::ServerUnaryReactor* LogService::AddSequencedLeaves(
    grpc::CallbackServerContext* context,
    const trillian::AddSequencedLeavesRequest* request,
    trillian::AddSequencedLeavesResponse* response) {
  return Serve(context, request, response, &LogService::AddSequencedLeaves,
               /*blocking=*/true);
}

grpc::ServerUnaryReactor* LogService::GetInclusionProof(
    grpc::CallbackServerContext* context,
    const trillian::GetInclusionProofRequest* request,
    trillian::GetInclusionProofResponse* response) {
  return Serve(context, request, response, &LogService::GetInclusionProof,
               /*blocking=*/false);
}

grpc::ServerUnaryReactor* LogService::GetInclusionProofByHash(
    grpc::CallbackServerContext* context,
    const trillian::GetInclusionProofByHashRequest* request,
    trillian::GetInclusionProofByHashResponse* response) {
  return Serve(context, request, response, &LogService::GetInclusionProofByHash,
               /*blocking=*/false);
}

grpc::ServerUnaryReactor* LogService::GetConsistencyProof(
    grpc::CallbackServerContext* context,
    const trillian::GetConsistencyProofRequest* request,
    trillian::GetConsistencyProofResponse* response) {
  return Serve(context, request, response, &LogService::GetConsistencyProof,
               /*blocking=*/false);
}

grpc::ServerUnaryReactor* LogService::GetLatestSignedLogRoot(
    grpc::CallbackServerContext* context,
    const trillian::GetLatestSignedLogRootRequest* request,
    trillian::GetLatestSignedLogRootResponse* response) {
  return Serve(context, request, response, &LogService::GetLatestSignedLogRoot,
               /*blocking=*/false);
}

grpc::ServerUnaryReactor* LogService::GetSequencedLeafCount(
    grpc::CallbackServerContext* context,
    const trillian::GetSequencedLeafCountRequest* request,
    trillian::GetSequencedLeafCountResponse* response) {
  return Serve(context, request, response, &LogService::GetSequencedLeafCount,
               /*blocking=*/false);
}

grpc::ServerUnaryReactor* LogService::GetEntryAndProof(
    grpc::CallbackServerContext* context,
    const trillian::GetEntryAndProofRequest* request,
    trillian::GetEntryAndProofResponse* response) {
  return Serve(context, request, response, &LogService::GetEntryAndProof,
               /*blocking=*/false);
}

grpc::ServerUnaryReactor* LogService::InitLog(
    grpc::CallbackServerContext* context,
    const trillian::InitLogRequest* request,
    trillian::InitLogResponse* response) {
  return Serve(context, request, response, &LogService::InitLog,
               /*blocking=*/true);
}

grpc::ServerUnaryReactor* LogService::GetLeavesByIndex(
    grpc::CallbackServerContext* context,
    const trillian::GetLeavesByIndexRequest* request,
    trillian::GetLeavesByIndexResponse* response) {
  return Serve(context, request, response, &LogService::GetLeavesByIndex,
               /*blocking=*/false);
}

grpc::ServerUnaryReactor* LogService::GetLeavesByRange(
    grpc::CallbackServerContext* context,
    const trillian::GetLeavesByRangeRequest* request,
    trillian::GetLeavesByRangeResponse* response) {
  return Serve(context, request, response, &LogService::GetLeavesByRange,
               /*blocking=*/false);
}

grpc::ServerUnaryReactor* LogService::GetLeavesByHash(
    grpc::CallbackServerContext* context,
    const trillian::GetLeavesByHashRequest* request,
    trillian::GetLeavesByHashResponse* response) {
  return Serve(context, request, response, &LogService::GetLeavesByHash,
               /*blocking=*/false);
}

grpc::Status LogService::QueueLeaf(const trillian::QueueLeafRequest* request,
                                   trillian::QueueLeafResponse* response) {
  return ReplyQueued(
      manager_->QueueLeaves(request->log_id(), OneLeaf(*request)), response);
}

grpc::Status LogService::QueueLeaves(
    const trillian::QueueLeavesRequest* request,
    trillian::QueueLeavesResponse* response) {
  return ReplyQueued(
      manager_->QueueLeaves(request->log_id(), request->leaves()), response);
}

grpc::Status LogService::AddSequencedLeaf(
    const trillian::AddSequencedLeafRequest* request,
    trillian::AddSequencedLeafResponse* response) {
  trillian::AddSequencedLeavesRequest batch;
  batch.set_log_id(request->log_id());
  *batch.add_leaves() = request->leaf();
  trillian::AddSequencedLeavesResponse batch_response;
  grpc::Status s = AddSequencedLeaves(&batch, &batch_response);
  if (!s.ok()) return s;
  *response->mutable_result() = std::move(*batch_response.mutable_results(0));
  return grpc::Status::OK;
}

grpc::Status LogService::AddSequencedLeaves(
    const trillian::AddSequencedLeavesRequest* request,
    trillian::AddSequencedLeavesResponse* response) {
  absl::StatusOr<std::vector<LogManager::SequencedOutcome>> outcomes =
      manager_->AddSequencedLeaves(request->log_id(), request->leaves());
  if (!outcomes.ok()) return ToGrpc(outcomes.status());
  for (LogManager::SequencedOutcome& outcome : *outcomes) {
    trillian::QueuedLogLeaf* result = response->add_results();
    *result->mutable_leaf() = std::move(outcome.leaf);
    if (!outcome.status.ok()) {
      *result->mutable_status() = RpcStatus(outcome.status);
    }
  }
  return grpc::Status::OK;
}

grpc::Status LogService::GetInclusionProof(
    const trillian::GetInclusionProofRequest* request,
    trillian::GetInclusionProofResponse* response) {
  absl::StatusOr<AtHead<InclusionProof>> answer = manager_->InclusionProofAt(
      request->log_id(), request->leaf_index(), request->tree_size());
  if (!answer.ok()) return ToGrpc(answer.status());
  *response->mutable_signed_log_root() = std::move(answer->head.signed_root);
  if (answer->value.has_value()) {
    FillProof(std::move(*answer->value), response->mutable_proof());
  }
  return grpc::Status::OK;
}

grpc::Status LogService::GetInclusionProofByHash(
    const trillian::GetInclusionProofByHashRequest* request,
    trillian::GetInclusionProofByHashResponse* response) {
  absl::StatusOr<AtHead<std::vector<InclusionProof>>> answer =
      manager_->InclusionProofsByHash(request->log_id(), request->leaf_hash(),
                                      request->tree_size());
  if (!answer.ok()) return ToGrpc(answer.status());
  *response->mutable_signed_log_root() = std::move(answer->head.signed_root);
  if (answer->value.has_value()) {
    for (InclusionProof& proof : *answer->value) {
      FillProof(std::move(proof), response->add_proof());
    }
  }
  return grpc::Status::OK;
}

grpc::Status LogService::GetConsistencyProof(
    const trillian::GetConsistencyProofRequest* request,
    trillian::GetConsistencyProofResponse* response) {
  absl::StatusOr<AtHead<std::vector<std::string>>> answer =
      manager_->ConsistencyProof(request->log_id(), request->first_tree_size(),
                                 request->second_tree_size());
  if (!answer.ok()) return ToGrpc(answer.status());
  *response->mutable_signed_log_root() = std::move(answer->head.signed_root);
  if (answer->value.has_value()) {
    FillProof({0, std::move(*answer->value)}, response->mutable_proof());
  }
  return grpc::Status::OK;
}

grpc::Status LogService::GetLatestSignedLogRoot(
    const trillian::GetLatestSignedLogRootRequest* request,
    trillian::GetLatestSignedLogRootResponse* response) {
  absl::StatusOr<AtHead<std::vector<std::string>>> answer =
      manager_->LatestRoot(request->log_id(), request->first_tree_size());
  if (!answer.ok()) return ToGrpc(answer.status());
  *response->mutable_signed_log_root() = std::move(answer->head.signed_root);
  if (answer->value.has_value()) {
    FillProof({0, std::move(*answer->value)}, response->mutable_proof());
  }
  return grpc::Status::OK;
}

grpc::Status LogService::GetSequencedLeafCount(
    const trillian::GetSequencedLeafCountRequest* request,
    trillian::GetSequencedLeafCountResponse* response) {
  absl::StatusOr<LogHead> head = manager_->ReadableHead(request->log_id());
  if (!head.ok()) return ToGrpc(head.status());
  response->set_leaf_count(static_cast<int64_t>(head->root.tree_size));
  return grpc::Status::OK;
}

grpc::Status LogService::GetEntryAndProof(
    const trillian::GetEntryAndProofRequest* request,
    trillian::GetEntryAndProofResponse* response) {
  absl::StatusOr<AtHead<LogManager::Entry>> answer = manager_->EntryAndProof(
      request->log_id(), request->leaf_index(), request->tree_size());
  if (!answer.ok()) return ToGrpc(answer.status());
  *response->mutable_signed_log_root() = std::move(answer->head.signed_root);
  if (answer->value.has_value()) {
    FillProof(std::move(answer->value->proof), response->mutable_proof());
    *response->mutable_leaf() = std::move(answer->value->leaf);
  }
  return grpc::Status::OK;
}

grpc::Status LogService::InitLog(const trillian::InitLogRequest* request,
                                 trillian::InitLogResponse* response) {
  absl::StatusOr<trillian::SignedLogRoot> created =
      manager_->Init(request->log_id());
  if (!created.ok()) return ToGrpc(created.status());
  *response->mutable_created() = std::move(*created);
  return grpc::Status::OK;
}

grpc::Status LogService::GetLeavesByIndex(
    const trillian::GetLeavesByIndexRequest* request,
    trillian::GetLeavesByIndexResponse* response) {
  return ReplyLeaves(
      manager_->LeavesByIndex(request->log_id(), request->leaf_index()),
      response);
}

grpc::Status LogService::GetLeavesByRange(
    const trillian::GetLeavesByRangeRequest* request,
    trillian::GetLeavesByRangeResponse* response) {
  return ReplyLeaves(
      manager_->LeavesByRange(request->log_id(), request->start_index(),
                              request->count()),
      response);
}

grpc::Status LogService::GetLeavesByHash(
    const trillian::GetLeavesByHashRequest* request,
    trillian::GetLeavesByHashResponse* response) {
  return ReplyLeaves(
      manager_->LeavesByHash(request->log_id(), request->leaf_hash(),
                             request->order_by_sequence()),
      response);
}

}  // namespace trellis::log
