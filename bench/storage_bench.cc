// Storage and sequencing speed on the real RocksDB backend, each against a
// raw RocksDB WriteBatch of the same records as its baseline, measured in
// the same run.
#include <algorithm>
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
#include "util/tls_codec.h"

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

// Baselines: the records the log's layout writes, in the same synced
// WriteBatches, without any of the work that produces them. One thread and
// a database that starts empty (little flushing or compaction), so an upper
// bound on what RocksDB does with these bytes.

// Queueing range(0) leaves (BM_QueueLeaves): one queue record holding the
// leaves as QueueLeaves encodes them, and one identity record per leaf
// (hashed keys, spread as SHA-256 spreads them), in key order as
// QueueLeaves writes them.
void BM_RawQueueWrite(benchmark::State& state) {
  Env env;
  namespace keys = storage::rocksdb::keys;
  const int n_leaves = state.range(0);
  const std::string queue_record(n_leaves * (4 + Leaf(0).ByteSizeLong()), 'q');
  const std::string identity_prefix = keys::Prefix(kTree, keys::kIdentity);
  std::mt19937_64 random(1);
  ::rocksdb::WriteOptions hinted = env.db->durable_write();
  hinted.memtable_insert_hint_per_batch = true;
  uint64_t seq = 0;
  for (auto _ : state) {
    std::vector<std::string> identity_keys(n_leaves, identity_prefix);
    for (std::string& key : identity_keys) PutUint(key, random(), 8);
    std::sort(identity_keys.begin(), identity_keys.end());
    ::rocksdb::WriteBatch queued;
    for (const std::string& key : identity_keys) {
      queued.Put(env.db->index(), key, "\x42\x85\x8a\x01\x07");
    }
    queued.Put(env.db->log(), keys::QueueRecord(kTree, seq++), queue_record);
    benchmark::DoNotOptimize(env.db->db()->Write(hinted, &queued));
  }
  state.SetItemsProcessed(state.iterations() * n_leaves);
}
BENCHMARK(BM_RawQueueWrite)->Arg(1000)->UseRealTime();

// Integrating range(0) leaves (BM_IntegrateBatch): the entry bundles and
// sidecars they reach (the right edge's rewritten), their level-0 tiles
// and the level-1 tile above, one queue record's forwarding record and
// removal, the root.
void BM_RawIntegrateWrite(benchmark::State& state) {
  Env env;
  namespace keys = storage::rocksdb::keys;
  const int n_leaves = state.range(0);
  const std::string bundle(256 * (2 + Leaf(0).leaf_value().size()), 'e');
  const std::string sidecar(256 * 5, 'x');
  const std::string tile(256 * 32 + 16 * 32, 't');
  const std::string root(200, 'r');
  uint64_t n = 0;
  uint64_t seq = 0;
  for (auto _ : state) {
    ::rocksdb::WriteBatch integrated;
    for (uint64_t b = n / 256; b <= (n + n_leaves - 1) / 256; ++b) {
      integrated.Put(env.db->log(), keys::Bundle(kTree, b), bundle);
      integrated.Put(env.db->log(), keys::Sidecar(kTree, b), sidecar);
      integrated.Put(env.db->log(), keys::Tile(kTree, 0, b), tile);
    }
    integrated.Put(env.db->log(), keys::Tile(kTree, 1, n / 65536), tile);
    integrated.Put(env.db->log(), keys::QueueIndex(kTree, seq),
                   std::string(8, 'i'));
    integrated.SingleDelete(env.db->log(), keys::QueueRecord(kTree, seq));
    integrated.Put(env.db->log(), keys::Root(kTree, n + n_leaves), root);
    benchmark::DoNotOptimize(
        env.db->db()->Write(env.db->durable_write(), &integrated));
    n += n_leaves;
    ++seq;
  }
  state.SetItemsProcessed(state.iterations() * n_leaves);
}
BENCHMARK(BM_RawIntegrateWrite)->Arg(1000)->Arg(10000)->UseRealTime();

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
