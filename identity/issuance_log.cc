#include "identity/issuance_log.h"

#include "util/tls_codec.h"

namespace trellis::identity {
namespace {

constexpr char kPromiseContext[] = "trellis inclusion promise v1";
// Most leaves one shared write carries.
constexpr size_t kMaxLeavesPerWrite = 5000;
// Records queued by asynchronous callers beyond which they are refused.
constexpr size_t kMaxQueuedLeaves = 100000;

}  // namespace

std::string PromiseSigningInput(const trellis::InclusionPromise& promise) {
  std::string input(kPromiseContext, sizeof(kPromiseContext));  // With NUL.
  PutUint(input, static_cast<uint64_t>(promise.log_id()), 8);
  PutUint(input, static_cast<uint64_t>(promise.timestamp_unix_nanos()), 8);
  input += promise.leaf_hash();
  return input;
}

IssuanceLog::IssuanceLog(log::RecordSink* sink, LogIdProvider log_id,
                         SignerProvider signers, Clock clock,
                         ThreadPool* writer)
    : sink_(sink),
      log_id_provider_(std::move(log_id)),
      signers_(std::move(signers)),
      clock_(std::move(clock)),
      writer_(writer) {}

absl::StatusOr<int64_t> IssuanceLog::LogId() {
  absl::MutexLock lock(&mu_);
  if (log_id_ == 0) {
    absl::StatusOr<int64_t> id = log_id_provider_();
    if (!id.ok()) return id.status();
    log_id_ = *id;
  }
  return log_id_;
}

void IssuanceLog::WriteQueued(int64_t log_id) {
  writing_ = true;
  while (!queued_.empty()) {
    // Take whole callers, up to the write's size (at least one).
    std::vector<Pending*> round;
    size_t leaves = 0;
    size_t taken = 0;
    while (taken < queued_.size() &&
           (round.empty() ||
            leaves + queued_[taken]->leaves.size() <= kMaxLeavesPerWrite)) {
      leaves += queued_[taken]->leaves.size();
      round.push_back(queued_[taken++]);
    }
    queued_.erase(queued_.begin(), queued_.begin() + taken);
    queued_leaves_ -= leaves;
    std::vector<std::string> batch;
    batch.reserve(leaves);
    for (const Pending* pending : round) {
      batch.insert(batch.end(), pending->leaves.begin(), pending->leaves.end());
    }
    mu_.Unlock();
    absl::StatusOr<std::vector<std::string>> hashes =
        sink_->Append(log_id, batch);
    std::vector<Pending*> waiting;
    size_t next = 0;
    for (Pending* pending : round) {
      if (hashes.ok()) {
        pending->hashes = std::vector<std::string>(
            hashes->begin() + next,
            hashes->begin() + next + pending->leaves.size());
        next += pending->leaves.size();
      } else {
        pending->hashes = hashes.status();
      }
      if (!pending->on_durable) {
        waiting.push_back(pending);
        continue;
      }
      // Asynchronous callers are answered here, outside the lock.
      pending->on_durable(std::move(pending->hashes));
      delete pending;
    }
    mu_.Lock();
    for (Pending* pending : waiting) pending->done = true;
  }
  writing_ = false;
}

std::vector<std::string> IssuanceLog::Leaves(
    std::vector<trellis::IssuanceRecord> records, int64_t now) {
  std::vector<std::string> leaves;
  leaves.reserve(records.size());
  for (trellis::IssuanceRecord& record : records) {
    record.set_type(kIssuanceRecordType);
    record.set_time_unix_nanos(now);
    leaves.push_back(SerializeRecord(record));
  }
  return leaves;
}

void IssuanceLog::AppendRecordsAsync(
    std::vector<trellis::IssuanceRecord> records, AppendDone done) {
  absl::StatusOr<int64_t> log_id = LogId();
  if (!log_id.ok()) return done(log_id.status());
  const int64_t now = absl::ToUnixNanos(clock_());
  if (writer_ == nullptr) return done(Write(*log_id, std::move(records), now));
  auto pending = std::make_unique<Pending>();
  pending->leaves = Leaves(std::move(records), now);
  pending->on_durable = std::move(done);
  {
    absl::MutexLock lock(&mu_);
    if (queued_leaves_ + pending->leaves.size() <= kMaxQueuedLeaves) {
      queued_leaves_ += pending->leaves.size();
      queued_.push_back(pending.release());
      if (writing_) return;  // The running writer takes it.
      // Claimed now, so that callers arriving before the task runs queue
      // behind it.
      writing_ = true;
      const int64_t id = *log_id;
      if (!writer_->TrySchedule(
              [this, id] {
                absl::MutexLock lock(&mu_);
                WriteQueued(id);
              },
              /*max_queued=*/1)) {
        WriteQueued(id);
      }
      return;
    }
  }
  pending->on_durable(absl::ResourceExhaustedError(
      "too many issuances waiting for the log; retry later"));
}

absl::StatusOr<std::vector<std::string>> IssuanceLog::Write(
    int64_t log_id, std::vector<trellis::IssuanceRecord> records, int64_t now) {
  Pending pending;
  pending.leaves = Leaves(std::move(records), now);
  absl::MutexLock lock(&mu_);
  queued_leaves_ += pending.leaves.size();
  queued_.push_back(&pending);
  if (!writing_) {
    WriteQueued(log_id);
  } else {
    mu_.Await(absl::Condition(&pending.done));
  }
  return std::move(pending.hashes);
}

absl::StatusOr<std::vector<std::string>> IssuanceLog::AppendRecords(
    std::vector<trellis::IssuanceRecord> records) {
  absl::StatusOr<int64_t> log_id = LogId();
  if (!log_id.ok()) return log_id.status();
  return Write(*log_id, std::move(records), absl::ToUnixNanos(clock_()));
}

absl::StatusOr<std::vector<trellis::InclusionPromise>> IssuanceLog::Append(
    std::vector<trellis::IssuanceRecord> records) {
  const int64_t now = absl::ToUnixNanos(clock_());
  absl::StatusOr<int64_t> log_id = LogId();
  if (!log_id.ok()) return log_id.status();
  absl::StatusOr<std::shared_ptr<const crypto::Signer>> signer =
      signers_(*log_id);
  if (!signer.ok()) return signer.status();
  absl::StatusOr<std::vector<std::string>> hashes =
      Write(*log_id, std::move(records), now);
  if (!hashes.ok()) return hashes.status();
  std::vector<trellis::InclusionPromise> promises;
  promises.reserve(hashes->size());
  for (std::string& hash : *hashes) {
    trellis::InclusionPromise promise;
    promise.set_log_id(*log_id);
    promise.set_leaf_hash(std::move(hash));
    promise.set_timestamp_unix_nanos(now);
    absl::StatusOr<std::string> signature =
        (*signer)->Sign(PromiseSigningInput(promise));
    if (!signature.ok()) return signature.status();
    promise.set_signature(std::move(*signature));
    promises.push_back(std::move(promise));
  }
  return promises;
}

}  // namespace trellis::identity
