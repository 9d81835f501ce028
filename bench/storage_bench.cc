// Storage and sequencing speed on the real RocksDB backend, with a raw
// RocksDB WriteBatch of the same shape as the baseline measured in the same
// run.
#include <random>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "crypto/keys.h"
#include "crypto/signer.h"
#include "log/root_signer.h"
#include "log/sequencer.h"
#include "merkle/compact_range.h"
#include "merkle/hasher.h"
#include "merkle/log_root.h"
#include "merkle/proof_builder.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/database.h"
#include "storage/rocksdb/keys.h"
#include "storage/rocksdb/log_storage.h"
#include "util/test_util.h"

namespace trellis {
namespace {

using storage::rocksdb::Database;
using storage::rocksdb::RocksLogStorage;

constexpr int64_t kTree = 1;

std::shared_ptr<const crypto::Signer> BenchSigner() {
  static auto* signer = new std::shared_ptr<const crypto::Signer>(
      std::make_shared<const crypto::Signer>(
          std::move(*crypto::GenerateKey(keyspb::Specification()))));
  return *signer;
}

trillian::LogLeaf Leaf(uint64_t n) {
  trillian::LogLeaf leaf;
  // 100-byte values: the size of a small attestation record digest entry.
  std::string value = "leaf-" + std::to_string(n);
  value.resize(100, '.');
  leaf.set_leaf_value(value);
  leaf.set_merkle_leaf_hash(merkle::HashLeaf(value));
  leaf.set_leaf_identity_hash(leaf.merkle_leaf_hash());
  *leaf.mutable_queue_timestamp() = google::protobuf::Timestamp();
  return leaf;
}

struct Env {
  testing::TempDir dir;
  std::unique_ptr<Database> db = std::move(*Database::Open({dir.path()}));
  RocksLogStorage storage{db.get()};
  Env() {
    merkle::LogRootV1 root;
    root.root_hash = merkle::EmptyRoot();
    (void)storage.InitRoot(kTree,
                           *log::SignLogRoot(kTree, root, *BenchSigner()));
  }
};

// Durable QueueLeaves of a batch (synced write), as the gRPC path does.
void BM_QueueLeaves(benchmark::State& state) {
  Env env;
  uint64_t n = 0;
  for (auto _ : state) {
    std::vector<trillian::LogLeaf> leaves;
    for (int i = 0; i < state.range(0); ++i) leaves.push_back(Leaf(n++));
    benchmark::DoNotOptimize(env.storage.QueueLeaves(kTree, std::move(leaves)));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_QueueLeaves)->Arg(1000)->UseRealTime();

// One sequencer pass over a queue of range(0) leaves: read the queue, hash,
// extend tiles, sign, write atomically (synced).
void BM_IntegrateBatch(benchmark::State& state) {
  Env env;
  log::Sequencer sequencer(
      &env.storage, [](int64_t) { return BenchSigner(); }, state.range(0));
  trillian::Tree tree;
  tree.set_tree_id(kTree);
  tree.set_tree_type(trillian::LOG);
  uint64_t n = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<trillian::LogLeaf> leaves;
    for (int i = 0; i < state.range(0); ++i) leaves.push_back(Leaf(n++));
    (void)env.storage.QueueLeaves(kTree, std::move(leaves));
    state.ResumeTiming();
    auto integrated = sequencer.IntegrateBatch(tree, absl::Now());
    if (!integrated.ok() ||
        *integrated != static_cast<size_t>(state.range(0))) {
      state.SkipWithError("integration failed");
    }
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_IntegrateBatch)->Arg(1000)->Arg(10000)->UseRealTime();

// Baseline: a synced WriteBatch with the same records an integration of
// range(0) leaves writes (per leaf: the leaf, its queue forwarding record,
// the queue entry's removal; the tiles; the root), without any of the work
// that produces them.
void BM_RawWriteBatch(benchmark::State& state) {
  Env env;
  namespace keys = storage::rocksdb::keys;
  uint64_t n = 0;
  const std::string tile(2 + 511 * 32, 't');
  const std::string root(200, 'r');
  for (auto _ : state) {
    ::rocksdb::WriteBatch batch;
    for (int i = 0; i < state.range(0); ++i, ++n) {
      trillian::LogLeaf leaf = Leaf(n);
      leaf.set_leaf_index(n);
      batch.Put(env.db->log(), keys::Leaf(kTree, n), leaf.SerializeAsString());
      batch.Put(env.db->log(), keys::QueueIndex(kTree, n), std::string(8, 'i'));
      batch.SingleDelete(env.db->log(), keys::Queue(kTree, n));
    }
    for (int t = 0; t < state.range(0) / 256 + 2; ++t) {
      batch.Put(env.db->log(), keys::Tile(kTree, 0, n / 256 + t), tile);
    }
    batch.Put(env.db->log(), keys::Root(kTree, n), root);
    benchmark::DoNotOptimize(
        env.db->db()->Write(env.db->durable_write(), &batch));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RawWriteBatch)->Arg(1000)->Arg(10000)->UseRealTime();

// Inclusion proofs read from RocksDB tiles of a 1,000,000-leaf tree.
void BM_InclusionProofFromTiles1M(benchmark::State& state) {
  static Env* env = [] {
    auto* e = new Env();
    merkle::CompactRange range;
    constexpr uint64_t kSize = 1000000;
    constexpr uint64_t kChunk = 1 << 16;
    for (uint64_t begin = 0; begin < kSize; begin += kChunk) {
      storage::IntegrationBatch batch;
      for (uint64_t i = begin; i < std::min(kSize, begin + kChunk); ++i) {
        trillian::LogLeaf leaf = Leaf(i);
        leaf.set_leaf_index(i);
        range.Append(leaf.merkle_leaf_hash(),
                     [&](const merkle::NodeID& id, const std::string& h) {
                       batch.nodes.emplace_back(id, h);
                     });
        batch.leaves.push_back(std::move(leaf));
      }
      merkle::LogRootV1 root;
      root.tree_size = range.size();
      root.root_hash = range.Root();
      root.revision = begin / kChunk + 1;
      batch.root = *log::SignLogRoot(kTree, root, *BenchSigner());
      batch.tree_size = root.tree_size;
      batch.revision = root.revision;
      if (!e->storage.Integrate(kTree, batch).ok()) std::abort();
    }
    return e;
  }();
  std::mt19937_64 rng(3);
  auto reader = env->storage.NodeReader(kTree);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        merkle::BuildInclusionProof(rng() % 1000000, 1000000, *reader));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProofFromTiles1M);

}  // namespace
}  // namespace trellis
