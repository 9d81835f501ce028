// The issuance log: every credential the SPIRE role issues is appended as a
// deterministic IssuanceRecord, and the log signs a promise of inclusion at
// once (issuance never waits for a sequencer pass), as CT logs issue SCTs.
#ifndef TRELLIS_IDENTITY_ISSUANCE_LOG_H_
#define TRELLIS_IDENTITY_ISSUANCE_LOG_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/signer.h"
#include "log/record_sink.h"
#include "trellis_identity.pb.h"
#include "util/thread_pool.h"

namespace trellis::identity {

inline constexpr char kIssuanceRecordType[] = "trellis.issuance.v1";

// The bytes a promise's signature covers: a context string, then the log
// id, timestamp (big-endian int64 each) and leaf hash.
std::string PromiseSigningInput(const trellis::InclusionPromise& promise);

using log::SerializeRecord;

class IssuanceLog {
 public:
  using SignerProvider =
      std::function<absl::StatusOr<std::shared_ptr<const crypto::Signer>>(
          int64_t)>;
  using Clock = std::function<absl::Time()>;

  // Finds (or makes) the log, once: the role's log is made with its first
  // record, as the attestation log is.
  using LogIdProvider = std::function<absl::StatusOr<int64_t>()>;

  // `writer` (one thread is enough) runs the shared writes that
  // AppendRecordsAsync callers queue; null: they write inline.
  IssuanceLog(log::RecordSink* sink, LogIdProvider log_id,
              SignerProvider signers, Clock clock = absl::Now,
              ThreadPool* writer = nullptr);

  // Appends the records durably (type and time filled in) and returns a
  // signed promise for each, in order. Concurrent calls share one log write
  // (a leader writes for everyone waiting), so many small issuances cost
  // one synced commit instead of one each.
  absl::StatusOr<std::vector<trellis::InclusionPromise>> Append(
      std::vector<trellis::IssuanceRecord> records);
  // The same without promises (for credentials that cannot carry one, such
  // as JWT-SVIDs): the records' leaf hashes.
  absl::StatusOr<std::vector<std::string>> AppendRecords(
      std::vector<trellis::IssuanceRecord> records);
  // AppendRecords without a thread waiting for it: `done` gets the leaf
  // hashes once the records are durable, on the writer's thread (or at
  // once with an error). RESOURCE_EXHAUSTED when kMaxQueuedLeaves wait.
  using AppendDone =
      std::function<void(absl::StatusOr<std::vector<std::string>>)>;
  void AppendRecordsAsync(std::vector<trellis::IssuanceRecord> records,
                          AppendDone done);

  absl::StatusOr<int64_t> LogId();

 private:
  log::RecordSink* const sink_;
  const LogIdProvider log_id_provider_;
  // One caller's records waiting for the shared write.
  struct Pending {
    std::vector<std::string> leaves;
    absl::StatusOr<std::vector<std::string>> hashes;
    bool done = false;
    // Set for asynchronous callers, whose Pending the writer owns.
    AppendDone on_durable;
  };
  // Serialised, typed and stamped records.
  static std::vector<std::string> Leaves(
      std::vector<trellis::IssuanceRecord> records, int64_t now);
  // Writes the queued records of every waiting caller, in rounds, until
  // none is left; run by the caller that found no writer running, or on
  // the writer pool.
  void WriteQueued(int64_t log_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Appends durably, sharing the write with concurrent callers; the leaf
  // hashes of `records` (typed and stamped with `now`).
  absl::StatusOr<std::vector<std::string>> Write(
      int64_t log_id, std::vector<trellis::IssuanceRecord> records,
      int64_t now);

  absl::Mutex mu_;
  int64_t log_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::vector<Pending*> queued_ ABSL_GUARDED_BY(mu_);
  size_t queued_leaves_ ABSL_GUARDED_BY(mu_) = 0;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  const SignerProvider signers_;
  const Clock clock_;
  ThreadPool* const writer_;
};

}  // namespace trellis::identity

#endif  // TRELLIS_IDENTITY_ISSUANCE_LOG_H_
