#include "log/log_service.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "log/hasher.h"
#include "log/proof_builder.h"
#include "util/grpc_callback.h"
#include "util/grpc_status.h"
#include "util/proto_time.h"

namespace trellis::log {
namespace {

grpc::Status InvalidArgument(const std::string& message) {
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message);
}

google::rpc::Status RpcStatus(const absl::Status& s) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(s.code()));
  out.set_message(std::string(s.message()));
  return out;
}

// A leaf index and tree size a proof can be asked for.
grpc::Status CheckLeafInTree(int64_t leaf_index, int64_t tree_size) {
  if (tree_size <= 0) return InvalidArgument("tree_size must be > 0");
  if (leaf_index < 0) return InvalidArgument("leaf_index is negative");
  if (leaf_index >= tree_size) {
    return InvalidArgument("leaf_index must be below tree_size");
  }
  return grpc::Status::OK;
}

void FillProof(int64_t leaf_index, std::vector<std::string> hashes,
               trillian::Proof* proof) {
  proof->set_leaf_index(leaf_index);
  for (std::string& h : hashes) proof->add_hashes(std::move(h));
}

}  // namespace

template <typename Request, typename Response>
grpc::ServerUnaryReactor* LogService::Serve(
    grpc::CallbackServerContext* context, const Request* request,
    Response* response,
    grpc::Status (LogService::*method)(const Request*, Response*),
    bool blocking) {
  return RunUnary(context, blocking ? write_pool_ : nullptr,
                  options_.max_queued_writes,
                  [this, request, response, method] {
                    return (this->*method)(request, response);
                  });
}

grpc::ServerUnaryReactor* LogService::QueueLeaf(
    grpc::CallbackServerContext* context,
    const trillian::QueueLeafRequest* request,
    trillian::QueueLeafResponse* response) {
  return Serve(context, request, response, &LogService::QueueLeaf,
               /*blocking=*/true);
}

grpc::ServerUnaryReactor* LogService::QueueLeaves(
    grpc::CallbackServerContext* context,
    const trillian::QueueLeavesRequest* request,
    trillian::QueueLeavesResponse* response) {
  return Serve(context, request, response, &LogService::QueueLeaves,
               /*blocking=*/true);
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

absl::StatusOr<trillian::Tree> LogService::TreeFor(int64_t tree_id,
                                                   Access access) {
  absl::StatusOr<trillian::Tree> tree = trees_->GetTree(tree_id);
  if (!tree.ok()) return tree.status();
  // As in Trillian: type first, then state, then deletion.
  const trillian::TreeType type = tree->tree_type();
  const bool is_log = type == trillian::LOG || type == trillian::PREORDERED_LOG;
  if (!is_log || (access == Access::kQueue && type != trillian::LOG) ||
      (access == Access::kSequence && type != trillian::PREORDERED_LOG)) {
    return absl::InvalidArgumentError(
        absl::StrCat("operation not allowed for ",
                     trillian::TreeType_Name(type), "-type trees"));
  }
  const trillian::TreeState state = tree->tree_state();
  const bool writable =
      state == trillian::ACTIVE ||
      (access == Access::kSequence && state == trillian::DRAINING);
  if ((access == Access::kQueue || access == Access::kSequence) && !writable) {
    return absl::PermissionDeniedError(
        absl::StrCat("operation not allowed when tree is ",
                     trillian::TreeState_Name(state)));
  }
  if (tree->deleted()) {
    return absl::NotFoundError(absl::StrCat("tree ", tree_id, " not found"));
  }
  return tree;
}

absl::StatusOr<LogService::Head> LogService::ReadableHead(int64_t tree_id) {
  absl::StatusOr<trillian::Tree> tree = TreeFor(tree_id, Access::kRead);
  if (!tree.ok()) return tree.status();
  return LatestHead(tree_id);
}

absl::StatusOr<LogService::Head> LogService::LatestHead(int64_t tree_id) {
  absl::StatusOr<std::optional<trillian::SignedLogRoot>> latest =
      logs_->LatestRoot(tree_id);
  if (!latest.ok()) return latest.status();
  if (!latest->has_value()) {
    return absl::FailedPreconditionError("tree needs initialising");
  }
  absl::StatusOr<LogRootV1> root = ParseLogRoot((*latest)->log_root());
  if (!root.ok()) return absl::DataLossError(root.status().message());
  return Head{std::move(**latest), std::move(*root)};
}

absl::StatusOr<std::vector<trillian::LogLeaf>> LogService::PrepareLeaves(
    const google::protobuf::RepeatedPtrField<trillian::LogLeaf>& in,
    bool keep_index) {
  if (in.empty()) return absl::InvalidArgumentError("leaves are empty");
  if (static_cast<size_t>(in.size()) > options_.max_leaves_per_request) {
    return absl::InvalidArgumentError(
        absl::StrCat("too many leaves: ", in.size(), " > ",
                     options_.max_leaves_per_request));
  }
  const auto queued_at = ToProto(absl::Now());
  std::vector<trillian::LogLeaf> leaves;
  leaves.reserve(in.size());
  for (const trillian::LogLeaf& submitted : in) {
    if (submitted.leaf_value().empty()) {
      return absl::InvalidArgumentError("leaf_value is empty");
    }
    if (submitted.leaf_index() < 0) {
      return absl::InvalidArgumentError("leaf_index is negative");
    }
    if (!submitted.leaf_identity_hash().empty() &&
        submitted.leaf_identity_hash().size() != kHashSize) {
      return absl::InvalidArgumentError(
          absl::StrCat("leaf_identity_hash must be ", kHashSize, " bytes"));
    }
    trillian::LogLeaf leaf;
    leaf.set_leaf_value(submitted.leaf_value());
    leaf.set_extra_data(submitted.extra_data());
    leaf.set_merkle_leaf_hash(HashLeaf(submitted.leaf_value()));
    leaf.set_leaf_identity_hash(submitted.leaf_identity_hash().empty()
                                    ? leaf.merkle_leaf_hash()
                                    : submitted.leaf_identity_hash());
    if (keep_index) leaf.set_leaf_index(submitted.leaf_index());
    *leaf.mutable_queue_timestamp() = queued_at;
    leaves.push_back(std::move(leaf));
  }
  return leaves;
}

grpc::Status LogService::QueueLeaf(const trillian::QueueLeafRequest* request,
                                   trillian::QueueLeafResponse* response) {
  trillian::QueueLeavesRequest batch;
  batch.set_log_id(request->log_id());
  *batch.add_leaves() = request->leaf();
  trillian::QueueLeavesResponse batch_response;
  grpc::Status s = QueueLeaves(&batch, &batch_response);
  if (!s.ok()) return s;
  *response->mutable_queued_leaf() =
      std::move(*batch_response.mutable_queued_leaves(0));
  return grpc::Status::OK;
}

grpc::Status LogService::QueueLeaves(
    const trillian::QueueLeavesRequest* request,
    trillian::QueueLeavesResponse* response) {
  absl::StatusOr<trillian::Tree> tree =
      TreeFor(request->log_id(), Access::kQueue);
  if (!tree.ok()) return ToGrpc(tree.status());
  absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
      PrepareLeaves(request->leaves(), /*keep_index=*/false);
  if (!leaves.ok()) return ToGrpc(leaves.status());
  if (absl::StatusOr<Head> head = LatestHead(request->log_id()); !head.ok()) {
    return ToGrpc(head.status());
  }
  absl::StatusOr<std::vector<storage::QueueOutcome>> outcomes =
      logs_->QueueLeaves(request->log_id(), std::move(*leaves));
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
  absl::StatusOr<trillian::Tree> tree =
      TreeFor(request->log_id(), Access::kSequence);
  if (!tree.ok()) return ToGrpc(tree.status());
  absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
      PrepareLeaves(request->leaves(), /*keep_index=*/true);
  if (!leaves.ok()) return ToGrpc(leaves.status());
  for (size_t i = 1; i < leaves->size(); ++i) {
    // Compared pairwise: leaf_index + i could overflow near INT64_MAX.
    if ((*leaves)[i].leaf_index() - 1 != (*leaves)[i - 1].leaf_index()) {
      return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                          "leaf indices must be contiguous");
    }
  }
  if (absl::StatusOr<Head> head = LatestHead(request->log_id()); !head.ok()) {
    return ToGrpc(head.status());
  }
  std::vector<trillian::LogLeaf> held;
  std::vector<trillian::LogLeaf> submitted = *leaves;
  absl::StatusOr<std::vector<absl::Status>> results =
      logs_->AddSequencedLeaves(request->log_id(), std::move(*leaves), &held);
  if (!results.ok()) return ToGrpc(results.status());
  for (size_t i = 0; i < results->size(); ++i) {
    trillian::QueuedLogLeaf* result = response->add_results();
    if ((*results)[i].ok()) {
      *result->mutable_leaf() = std::move(submitted[i]);
    } else {
      *result->mutable_leaf() = std::move(held[i]);
      *result->mutable_status() = RpcStatus((*results)[i]);
    }
  }
  return grpc::Status::OK;
}

grpc::Status LogService::GetInclusionProof(
    const trillian::GetInclusionProofRequest* request,
    trillian::GetInclusionProofResponse* response) {
  if (grpc::Status s =
          CheckLeafInTree(request->leaf_index(), request->tree_size());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<Head> head = ReadableHead(request->log_id());
  if (!head.ok()) return ToGrpc(head.status());
  *response->mutable_signed_log_root() = head->signed_root;
  if (static_cast<uint64_t>(request->tree_size()) > head->root.tree_size) {
    return grpc::Status::OK;  // Server skew: the root tells what we know.
  }
  absl::StatusOr<std::vector<std::string>> proof =
      BuildInclusionProof(request->leaf_index(), request->tree_size(),
                          *logs_->NodeReader(request->log_id()));
  if (!proof.ok()) return ToGrpc(proof.status());
  FillProof(request->leaf_index(), std::move(*proof),
            response->mutable_proof());
  return grpc::Status::OK;
}

grpc::Status LogService::GetInclusionProofByHash(
    const trillian::GetInclusionProofByHashRequest* request,
    trillian::GetInclusionProofByHashResponse* response) {
  if (request->tree_size() <= 0)
    return InvalidArgument("tree_size must be > 0");
  if (request->leaf_hash().size() != kHashSize) {
    return InvalidArgument(
        absl::StrCat("leaf_hash must be ", kHashSize, " bytes"));
  }
  absl::StatusOr<Head> head = ReadableHead(request->log_id());
  if (!head.ok()) return ToGrpc(head.status());
  *response->mutable_signed_log_root() = head->signed_root;
  const uint64_t size = request->tree_size();
  if (size > head->root.tree_size) return grpc::Status::OK;  // Server skew.
  absl::StatusOr<std::vector<uint64_t>> indices =
      logs_->IndicesByHash(request->log_id(), request->leaf_hash());
  if (!indices.ok()) return ToGrpc(indices.status());
  auto reader = logs_->NodeReader(request->log_id());
  int found = 0;
  for (uint64_t index : *indices) {
    if (index >= size) continue;
    if (static_cast<size_t>(found) == options_.max_leaves_per_read) break;
    ++found;
    absl::StatusOr<std::vector<std::string>> proof =
        BuildInclusionProof(index, size, *reader);
    if (!proof.ok()) return ToGrpc(proof.status());
    FillProof(index, std::move(*proof), response->add_proof());
  }
  if (found == 0) {
    return grpc::Status(
        grpc::StatusCode::NOT_FOUND,
        absl::StrCat("no leaf with that hash in tree size ", size));
  }
  return grpc::Status::OK;
}

grpc::Status LogService::GetConsistencyProof(
    const trillian::GetConsistencyProofRequest* request,
    trillian::GetConsistencyProofResponse* response) {
  if (request->first_tree_size() <= 0) {
    return InvalidArgument("first_tree_size must be > 0");
  }
  if (request->second_tree_size() <= 0) {
    return InvalidArgument("second_tree_size must be > 0");
  }
  if (request->second_tree_size() < request->first_tree_size()) {
    return InvalidArgument(
        "second_tree_size must not be below first_tree_size");
  }
  absl::StatusOr<Head> head = ReadableHead(request->log_id());
  if (!head.ok()) return ToGrpc(head.status());
  *response->mutable_signed_log_root() = head->signed_root;
  if (static_cast<uint64_t>(request->second_tree_size()) >
      head->root.tree_size) {
    return grpc::Status::OK;  // Server skew.
  }
  absl::StatusOr<std::vector<std::string>> proof = BuildConsistencyProof(
      request->first_tree_size(), request->second_tree_size(),
      *logs_->NodeReader(request->log_id()));
  if (!proof.ok()) return ToGrpc(proof.status());
  FillProof(0, std::move(*proof), response->mutable_proof());
  return grpc::Status::OK;
}

grpc::Status LogService::GetLatestSignedLogRoot(
    const trillian::GetLatestSignedLogRootRequest* request,
    trillian::GetLatestSignedLogRootResponse* response) {
  if (request->first_tree_size() < 0) {
    return InvalidArgument("first_tree_size is negative");
  }
  absl::StatusOr<Head> head = ReadableHead(request->log_id());
  if (!head.ok()) return ToGrpc(head.status());
  *response->mutable_signed_log_root() = head->signed_root;
  const uint64_t first = request->first_tree_size();
  if (first == 0) return grpc::Status::OK;
  if (first > head->root.tree_size) {
    return InvalidArgument(absl::StrCat("first_tree_size ", first,
                                        " is beyond the tree size ",
                                        head->root.tree_size));
  }
  absl::StatusOr<std::vector<std::string>> proof = BuildConsistencyProof(
      first, head->root.tree_size, *logs_->NodeReader(request->log_id()));
  if (!proof.ok()) return ToGrpc(proof.status());
  FillProof(0, std::move(*proof), response->mutable_proof());
  return grpc::Status::OK;
}

grpc::Status LogService::GetSequencedLeafCount(
    const trillian::GetSequencedLeafCountRequest* request,
    trillian::GetSequencedLeafCountResponse* response) {
  absl::StatusOr<Head> head = ReadableHead(request->log_id());
  if (!head.ok()) return ToGrpc(head.status());
  response->set_leaf_count(static_cast<int64_t>(head->root.tree_size));
  return grpc::Status::OK;
}

grpc::Status LogService::GetEntryAndProof(
    const trillian::GetEntryAndProofRequest* request,
    trillian::GetEntryAndProofResponse* response) {
  if (grpc::Status s =
          CheckLeafInTree(request->leaf_index(), request->tree_size());
      !s.ok()) {
    return s;
  }
  absl::StatusOr<Head> head = ReadableHead(request->log_id());
  if (!head.ok()) return ToGrpc(head.status());
  *response->mutable_signed_log_root() = head->signed_root;
  const uint64_t index = request->leaf_index();
  if (index >= head->root.tree_size) return grpc::Status::OK;  // Server skew.
  // A size beyond the latest root is answered for the latest root.
  const uint64_t size =
      std::min<uint64_t>(request->tree_size(), head->root.tree_size);
  absl::StatusOr<std::vector<std::string>> proof =
      BuildInclusionProof(index, size, *logs_->NodeReader(request->log_id()));
  if (!proof.ok()) return ToGrpc(proof.status());
  const int64_t wanted[] = {request->leaf_index()};
  absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
      logs_->GetLeavesByIndex(request->log_id(), wanted);
  if (!leaves.ok()) return ToGrpc(leaves.status());
  FillProof(request->leaf_index(), std::move(*proof),
            response->mutable_proof());
  *response->mutable_leaf() = std::move(leaves->front());
  return grpc::Status::OK;
}

grpc::Status LogService::InitLog(const trillian::InitLogRequest* request,
                                 trillian::InitLogResponse* response) {
  absl::StatusOr<trillian::Tree> tree =
      TreeFor(request->log_id(), Access::kInit);
  if (!tree.ok()) return ToGrpc(tree.status());
  absl::StatusOr<std::shared_ptr<const crypto::Signer>> signer =
      signers_(request->log_id());
  if (!signer.ok()) return ToGrpc(signer.status());
  LogRootV1 root;
  root.tree_size = 0;
  root.root_hash = EmptyRoot();
  root.timestamp_nanos = absl::ToUnixNanos(absl::Now());
  root.revision = 0;
  absl::StatusOr<trillian::SignedLogRoot> signed_root =
      SignLogRoot(request->log_id(), root, **signer);
  if (!signed_root.ok()) return ToGrpc(signed_root.status());
  absl::Status s = logs_->InitRoot(request->log_id(), *signed_root);
  if (!s.ok()) return ToGrpc(s);
  *response->mutable_created() = std::move(*signed_root);
  return grpc::Status::OK;
}

grpc::Status LogService::GetLeavesByIndex(
    const trillian::GetLeavesByIndexRequest* request,
    trillian::GetLeavesByIndexResponse* response) {
  if (request->leaf_index().empty())
    return InvalidArgument("no leaf_index given");
  if (static_cast<size_t>(request->leaf_index_size()) >
      options_.max_leaves_per_read) {
    return InvalidArgument(absl::StrCat(
        "at most ", options_.max_leaves_per_read, " indices per request"));
  }
  for (int64_t index : request->leaf_index()) {
    if (index < 0) return InvalidArgument("leaf_index is negative");
  }
  absl::StatusOr<Head> head = ReadableHead(request->log_id());
  if (!head.ok()) return ToGrpc(head.status());
  for (int64_t index : request->leaf_index()) {
    if (static_cast<uint64_t>(index) >= head->root.tree_size) {
      return grpc::Status(
          grpc::StatusCode::OUT_OF_RANGE,
          absl::StrCat("invalid leaf index ", index, ", want < tree size ",
                       head->root.tree_size));
    }
  }
  absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
      logs_->GetLeavesByIndex(request->log_id(), request->leaf_index());
  if (!leaves.ok()) return ToGrpc(leaves.status());
  for (trillian::LogLeaf& leaf : *leaves) {
    *response->add_leaves() = std::move(leaf);
  }
  *response->mutable_signed_log_root() = head->signed_root;
  return grpc::Status::OK;
}

grpc::Status LogService::GetLeavesByRange(
    const trillian::GetLeavesByRangeRequest* request,
    trillian::GetLeavesByRangeResponse* response) {
  if (request->start_index() < 0)
    return InvalidArgument("start_index is negative");
  if (request->count() <= 0) return InvalidArgument("count must be > 0");
  absl::StatusOr<Head> head = ReadableHead(request->log_id());
  if (!head.ok()) return ToGrpc(head.status());
  *response->mutable_signed_log_root() = head->signed_root;
  const uint64_t count =
      std::min<uint64_t>(request->count(), options_.max_leaves_per_read);
  absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
      logs_->GetLeavesByRange(request->log_id(), request->start_index(), count,
                              head->root.tree_size);
  if (!leaves.ok()) return ToGrpc(leaves.status());
  for (trillian::LogLeaf& leaf : *leaves) {
    *response->add_leaves() = std::move(leaf);
  }
  return grpc::Status::OK;
}

grpc::Status LogService::GetLeavesByHash(
    const trillian::GetLeavesByHashRequest* request,
    trillian::GetLeavesByHashResponse* response) {
  if (request->leaf_hash().empty())
    return InvalidArgument("no leaf_hash given");
  if (static_cast<size_t>(request->leaf_hash_size()) >
      options_.max_leaves_per_read) {
    return InvalidArgument(absl::StrCat(
        "at most ", options_.max_leaves_per_read, " hashes per request"));
  }
  for (const std::string& hash : request->leaf_hash()) {
    if (hash.size() != kHashSize) {
      return InvalidArgument(
          absl::StrCat("leaf_hash must be ", kHashSize, " bytes"));
    }
  }
  absl::StatusOr<Head> head = ReadableHead(request->log_id());
  if (!head.ok()) return ToGrpc(head.status());
  std::vector<int64_t> wanted;
  for (const std::string& hash : request->leaf_hash()) {
    absl::StatusOr<std::vector<uint64_t>> indices =
        logs_->IndicesByHash(request->log_id(), hash);
    if (!indices.ok()) return ToGrpc(indices.status());
    for (uint64_t index : *indices) {
      if (index >= head->root.tree_size) continue;
      if (wanted.size() == options_.max_leaves_per_read) break;
      wanted.push_back(index);
    }
  }
  if (request->order_by_sequence()) std::sort(wanted.begin(), wanted.end());
  if (!wanted.empty()) {
    absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
        logs_->GetLeavesByIndex(request->log_id(), wanted);
    if (!leaves.ok()) return ToGrpc(leaves.status());
    for (trillian::LogLeaf& leaf : *leaves) {
      *response->add_leaves() = std::move(leaf);
    }
  }
  *response->mutable_signed_log_root() = head->signed_root;
  return grpc::Status::OK;
}

}  // namespace trellis::log
