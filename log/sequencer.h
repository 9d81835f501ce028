// The sequencer: moves queued leaves into the tree in batches, extends the
// Merkle tiles, and signs the new root, all in one atomic storage write.
#ifndef TRELLIS_LOG_SEQUENCER_H_
#define TRELLIS_LOG_SEQUENCER_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "log/root_signer.h"
#include "merkle/compact_range.h"
#include "metrics/registry.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "storage/log_storage.h"
#include "trillian.pb.h"

namespace trellis::log {

class Sequencer {
 public:
  // Records trellis_log_* metrics into `metrics` if given.
  Sequencer(storage::LogStorage* storage, SignerProvider signers,
            size_t batch_size, prometheus::Registry* metrics = nullptr);

  // One pass over one LOG or PREORDERED_LOG tree: integrates up to
  // batch_size leaves (LOG: oldest queued first; PREORDERED_LOG: the
  // contiguous run after the tree's end) and signs a root for them. With no
  // leaves, signs a fresh root only if max_root_duration has passed since the
  // last one. Returns the number of leaves integrated. Trees without a root
  // are skipped (they need InitLog).
  absl::StatusOr<size_t> IntegrateBatch(const trillian::Tree& tree,
                                        absl::Time now);

  size_t batch_size() const { return batch_size_; }

 private:
  // Counts the integrated leaves and their merge delays (queue to
  // integration).
  void Record(const trillian::Tree& tree,
              const std::vector<trillian::LogLeaf>& integrated, absl::Time now);

  // The tree's right edge at `size`, from the cache or the stored tiles.
  absl::StatusOr<merkle::CompactRange> RightEdge(int64_t tree_id, uint64_t size,
                                                 const std::string& root_hash);

  storage::LogStorage* const storage_;
  const SignerProvider signers_;
  const size_t batch_size_;
  metrics::RegistryOrOwn metrics_;
  prometheus::Family<prometheus::Counter>& integrated_;
  prometheus::Family<prometheus::Histogram>& merge_delay_;
  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, merkle::CompactRange> edges_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::log

#endif  // TRELLIS_LOG_SEQUENCER_H_
