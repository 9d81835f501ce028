// Merkle core speed: hashing, compact-range appends, proof construction.
#include <openssl/evp.h>

#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "map/hasher.h"
#include "merkle/compact_range.h"
#include "merkle/hasher.h"
#include "merkle/proof_builder.h"

namespace trellis::log {
namespace {

// Baseline: one-shot SHA-256 of 64 bytes through OpenSSL with a fetched
// algorithm, as `openssl speed -bytes 64 sha256` measures it.
void BM_OpenSslSha256_64B(benchmark::State& state) {
  const std::string data(64, 'x');
  unsigned char out[32];
  unsigned int len;
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  for (auto _ : state) {
    EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
    benchmark::DoNotOptimize(out);
  }
  EVP_MD_free(md);
  state.SetBytesProcessed(state.iterations() * 64);
}
BENCHMARK(BM_OpenSslSha256_64B);

void BM_HashChildren(benchmark::State& state) {
  const std::string a(32, 'a'), b(32, 'b');
  for (auto _ : state) benchmark::DoNotOptimize(merkle::HashChildren(a, b));
  state.SetBytesProcessed(state.iterations() * 65);
}
BENCHMARK(BM_HashChildren);

void BM_HashLeaf(benchmark::State& state) {
  const std::string value(state.range(0), 'v');
  for (auto _ : state) benchmark::DoNotOptimize(merkle::HashLeaf(value));
  state.SetBytesProcessed(state.iterations() * (value.size() + 1));
}
BENCHMARK(BM_HashLeaf)->Arg(64)->Arg(1024);

void BM_CompactRangeAppend(benchmark::State& state) {
  merkle::CompactRange range;
  const std::string leaf = merkle::HashLeaf("leaf");
  size_t nodes = 0;
  for (auto _ : state) {
    range.Append(leaf,
                 [&](const merkle::NodeID&, const std::string&) { ++nodes; });
  }
  benchmark::DoNotOptimize(nodes);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_CompactRangeAppend);

// Every perfect subtree of a 2^20-leaf tree, in memory.
class MemoryNodes : public merkle::NodeReader {
 public:
  explicit MemoryNodes(uint64_t size) {
    merkle::CompactRange range;
    for (uint64_t i = 0; i < size; ++i) {
      range.Append(merkle::HashLeaf(std::to_string(i)),
                   [&](const merkle::NodeID& id, const std::string& h) {
                     if (levels_.size() <= id.level)
                       levels_.resize(id.level + 1);
                     levels_[id.level].push_back(h);
                   });
    }
  }
  absl::StatusOr<std::vector<std::string>> GetNodes(
      absl::Span<const merkle::NodeID> ids) override {
    std::vector<std::string> out;
    out.reserve(ids.size());
    for (const merkle::NodeID& id : ids)
      out.push_back(levels_[id.level][id.index]);
    return out;
  }

 private:
  std::vector<std::vector<std::string>> levels_;
};

MemoryNodes& Million() {
  static MemoryNodes* nodes = new MemoryNodes(1000000);
  return *nodes;
}

void BM_InclusionProof1M(benchmark::State& state) {
  MemoryNodes& nodes = Million();
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        merkle::BuildInclusionProof(rng() % 1000000, 1000000, nodes));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_InclusionProof1M);

void BM_ConsistencyProof1M(benchmark::State& state) {
  MemoryNodes& nodes = Million();
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        merkle::BuildConsistencyProof(1 + rng() % 999999, 1000000, nodes));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConsistencyProof1M);

}  // namespace
}  // namespace trellis::log

namespace trellis::log {
namespace {

// Map hashing: CONIKS empty-subtree hashes dominate map updates.
void BM_ConiksHashEmpty(benchmark::State& state) {
  auto hasher =
      map::NewMapHasher(static_cast<trillian::HashStrategy>(state.range(0)));
  const std::string index(32, 'i');
  int height = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize((*hasher)->HashEmpty(7, index, height));
    height = (height + 1) % 256;
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ConiksHashEmpty)
    ->Arg(trillian::CONIKS_SHA512_256)
    ->Arg(trillian::CONIKS_SHA256);

}  // namespace
}  // namespace trellis::log
