// Gathers witness cosignatures for a log's checkpoint: sends each witness
// of the log's policy a tlog-witness add-checkpoint request (the size it
// last cosigned, a consistency proof from it, the signed checkpoint), in
// parallel, and keeps the cosignature lines that verify under the
// witness's key. A 409 teaches the witness's size and the request is sent
// again once from there.
#ifndef TRELLIS_LOG_WITNESS_COLLECTOR_H_
#define TRELLIS_LOG_WITNESS_COLLECTOR_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
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
  WitnessCollector(ConsistencyProver prover, absl::Duration timeout)
      : prover_(std::move(prover)), timeout_(timeout) {}

  // Cosignatures of `note` (log `tree_id`'s checkpoint for `size` leaves)
  // by the witnesses of `policy` that have a URL.
  Cosignatures Collect(int64_t tree_id, const tlog::WitnessPolicy& policy,
                       const std::string& note, uint64_t size);

 private:
  // One witness: OK with its verified cosignature lines.
  absl::StatusOr<std::vector<std::string>> CollectOne(
      int64_t tree_id, const tlog::PolicyWitness& witness,
      const std::string& note, uint64_t size);
  absl::StatusOr<std::vector<std::string>> Send(
      int64_t tree_id, const tlog::PolicyWitness& witness,
      const std::string& note, uint64_t old_size, uint64_t size,
      uint64_t* witness_size);

  const ConsistencyProver prover_;
  const absl::Duration timeout_;
  absl::Mutex mu_;
  // What each witness last cosigned of each log (0 until known).
  absl::flat_hash_map<std::pair<int64_t, std::string>, uint64_t> sizes_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::log

#endif  // TRELLIS_LOG_WITNESS_COLLECTOR_H_
