// Gathers witness cosignatures for a log's checkpoint: sends each witness
// of the log's policy a tlog-witness add-checkpoint request (the size it
// last cosigned, a consistency proof from it, the signed checkpoint), all
// in parallel, and keeps the one cosignature line per witness that verifies
// under its key. A 409 teaches the witness's size and the request is sent
// again once from there. A round takes at most twice the timeout whatever
// the witnesses do: requests run on their own threads, replies are capped,
// and a witness whose previous request is still open is not asked again.
#ifndef TRELLIS_LOG_WITNESS_COLLECTOR_H_
#define TRELLIS_LOG_WITNESS_COLLECTOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "metrics/registry.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "tlog/policy.h"

namespace trellis::log {

// A consistency proof of a log from `from` to `to` leaves.
using ConsistencyProver =
    std::function<absl::StatusOr<std::vector<std::string>>(
        int64_t tree_id, uint64_t from, uint64_t to)>;

struct Cosignatures {
  std::vector<std::string> lines;     // Signature lines, '\n'-terminated.
  std::set<std::string> witnesses;    // Whose lines those are.
  std::vector<std::string> failures;  // "<witness>: <why>", for the logs.
};

class WitnessCollector {
 public:
  // `timeout` bounds each request, connection included.
  // Records trellis_witness_* metrics into `metrics` if given.
  WitnessCollector(ConsistencyProver prover, absl::Duration timeout,
                   prometheus::Registry* metrics = nullptr);

  // Cosignatures of `note` (log `tree_id`'s checkpoint for `size` leaves)
  // by the witnesses of `policy` that have a URL.
  Cosignatures Collect(int64_t tree_id, const tlog::WitnessPolicy& policy,
                       const std::string& note, uint64_t size);

 private:
  struct Attempt;
  using Key = std::pair<int64_t, std::string>;  // Tree, witness name.

  // Starts the request of `attempt` from `old_size` on a thread of its own.
  absl::Status Launch(Attempt& attempt, uint64_t old_size);
  // The verified cosignature line of a finished attempt; ABORTED with the
  // witness's size in `attempt.witness_size` for a 409.
  absl::StatusOr<std::string> Interpret(Attempt& attempt);

  const ConsistencyProver prover_;
  const absl::Duration timeout_;
  metrics::RegistryOrOwn metrics_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& round_trips_;
  absl::Mutex mu_;
  // What each witness last cosigned of each log (0 until known).
  absl::flat_hash_map<Key, uint64_t> sizes_ ABSL_GUARDED_BY(mu_);
  // Requests still open, which a stalled witness may keep so for long.
  absl::flat_hash_map<Key, std::shared_ptr<std::atomic<bool>>> open_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::log

#endif  // TRELLIS_LOG_WITNESS_COLLECTOR_H_
