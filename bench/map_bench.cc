// Map write and proof speed on the real RocksDB backend: a revision of
// 10,000 new leaves into a map that already holds 1,000,000, and proofs at
// the latest and at an old revision. Also reports hashes per updated leaf
// and bytes stored per leaf, and a raw RocksDB WriteBatch of the same bytes
// as the baseline.
//
//   map_bench [--map_leaves=1000000] [--revision_leaves=10000]
#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <random>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/time/clock.h"
#include "admin/key_store.h"
#include "admin/tree_manager.h"
#include "map/map_manager.h"
#include "map/map_root.h"
#include "merkle/hasher.h"
#include "merkle/smt/sparse_tree.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/map_storage.h"
#include "storage/rocksdb/tree_storage.h"
#include "util/test_util.h"

ABSL_FLAG(int, map_leaves, 1000000, "Leaves in the map before measuring.");
ABSL_FLAG(int, revision_leaves, 10000, "Leaves in the measured revision.");
ABSL_FLAG(int, proofs, 20000, "Proofs to build per measurement.");
ABSL_FLAG(int, indices_per_read, 1, "Indices per GetLeaves call.");
ABSL_FLAG(std::string, hash_strategy, "CONIKS_SHA256",
          "CONIKS_SHA256, CONIKS_SHA512_256 or TEST_MAP_HASHER.");

namespace trellis {
namespace {

using google::protobuf::RepeatedPtrField;

RepeatedPtrField<trillian::MapLeaf> RandomLeaves(std::mt19937_64& rng, int n) {
  RepeatedPtrField<trillian::MapLeaf> leaves;
  for (int i = 0; i < n; ++i) {
    trillian::MapLeaf* leaf = leaves.Add();
    std::string index(32, '\0');
    for (char& c : index) c = static_cast<char>(rng());
    leaf->set_index(index);
    leaf->set_leaf_value("value-" + std::to_string(rng() % 1000000));
  }
  return leaves;
}

uint64_t DirectoryBytes(const std::string& path) {
  uint64_t total = 0;
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return 0;
  while (dirent* e = readdir(dir)) {
    struct stat st;
    if (stat((path + "/" + e->d_name).c_str(), &st) == 0 &&
        S_ISREG(st.st_mode)) {
      total += st.st_size;
    }
  }
  closedir(dir);
  return total;
}

int Run() {
  testing::TempDir dir;
  auto db = std::move(*storage::rocksdb::Database::Open({dir.path()}));
  storage::rocksdb::RocksTreeStorage trees(db.get());
  storage::rocksdb::RocksLogStorage logs(db.get());
  storage::rocksdb::RocksMapStorage maps(db.get());
  admin::KeyStore keys(&trees, "");
  admin::TreeManager tree_manager(&trees, &logs, &keys);
  log::SignerProvider signers = [&](int64_t id) { return keys.SignerFor(id); };
  map::MapManager manager(&trees, &maps, /*history=*/nullptr, signers);
  trillian::CreateTreeRequest create;
  create.mutable_tree()->set_tree_type(trillian::MAP);
  trillian::HashStrategy strategy;
  if (!trillian::HashStrategy_Parse(absl::GetFlag(FLAGS_hash_strategy),
                                    &strategy)) {
    return 2;
  }
  create.mutable_tree()->set_hash_strategy(strategy);
  std::printf("hash strategy %s\n",
              trillian::HashStrategy_Name(strategy).c_str());
  const int64_t id = tree_manager.CreateTree(create)->tree_id();
  if (!manager.Init(id).ok()) return 1;

  std::mt19937_64 rng(1);
  const int total = absl::GetFlag(FLAGS_map_leaves);
  const absl::Time fill_start = absl::Now();
  constexpr int kFillBatch = 50000;
  for (int done = 0; done < total; done += kFillBatch) {
    if (!manager
             .Write(id, RandomLeaves(rng, std::min(kFillBatch, total - done)),
                    "", 0)
             .ok()) {
      return 1;
    }
  }
  const double fill_s = absl::ToDoubleSeconds(absl::Now() - fill_start);
  const int64_t old_revision = 1;
  db->db()->Flush(::rocksdb::FlushOptions(), db->map());
  const uint64_t bytes = DirectoryBytes(dir.path());
  std::printf(
      "fill: %d leaves in %.1fs (%.0f leaves/s); %.0f bytes on disk per leaf\n",
      total, fill_s, total / fill_s, static_cast<double>(bytes) / total);

  // The measured revision, and the hashes its tree update needs.
  const int n = absl::GetFlag(FLAGS_revision_leaves);
  RepeatedPtrField<trillian::MapLeaf> batch = RandomLeaves(rng, n);
  const absl::Time write_start = absl::Now();
  auto root = manager.Write(id, batch, "", 0);
  const double write_s = absl::ToDoubleSeconds(absl::Now() - write_start);
  if (!root.ok()) return 1;
  auto hasher = map::NewMapHasher(strategy);
  std::vector<merkle::smt::LeafHash> hashes;
  for (const auto& leaf : batch) {
    hashes.push_back({leaf.index(), (*hasher)->HashLeaf(id, leaf.index(),
                                                        leaf.leaf_value())});
  }
  std::sort(hashes.begin(), hashes.end(),
            [](const auto& a, const auto& b) { return a.index < b.index; });
  auto latest = maps.LatestRevision(id);
  auto previous = maps.Revision(id, (*latest)->revision - 1);
  const int64_t base = (*previous)->revision;
  auto update =
      merkle::smt::ApplyLeaves(**hasher, id, (*previous)->root_node, hashes,
                               [&] { return maps.TilesAt(id, base); });
  size_t tile_bytes = 0;
  for (const auto& [tile_id, tile] : update->tiles) {
    tile_bytes += tile.bytes().size() + tile_id.prefix.size() + 18;
  }
  std::printf(
      "revision of %d new leaves into %d: %.3fs (%.0f leaf updates/s, "
      "durable); "
      "%.0f hashes per updated leaf; %zu tiles, %.0f tile bytes per leaf\n",
      n, total, write_s, n / write_s, static_cast<double>(update->hashes) / n,
      update->tiles.size(), static_cast<double>(tile_bytes) / n);

  // Baseline: a synced WriteBatch of the same number of records and bytes.
  {
    ::rocksdb::WriteBatch raw;
    for (const auto& [tile_id, tile] : update->tiles) {
      raw.Put(db->map(),
              "raw-t" + tile_id.prefix + std::to_string(tile_id.depth),
              tile.bytes());
    }
    for (const auto& leaf : batch) {
      raw.Put(db->map(), "raw-v" + leaf.index(), leaf.SerializeAsString());
    }
    const absl::Time raw_start = absl::Now();
    db->db()->Write(db->durable_write(), &raw);
    const double raw_s = absl::ToDoubleSeconds(absl::Now() - raw_start);
    std::printf(
        "raw WriteBatch of the same records: %.3fs; revision / raw = %.2fx "
        "slower\n",
        raw_s, write_s / raw_s);
  }

  // Proofs at the latest and at an old revision.
  for (int64_t revision : {int64_t{-1}, old_revision}) {
    const int proofs = absl::GetFlag(FLAGS_proofs);
    const absl::Time start = absl::Now();
    const int per_read = absl::GetFlag(FLAGS_indices_per_read);
    for (int done = 0; done < proofs; done += per_read) {
      RepeatedPtrField<std::string> indices;
      for (int i = 0; i < per_read; ++i) {
        // Half set leaves, half absent indices.
        *indices.Add() = i % 2 == 0 ? batch[(done + i) % n].index()
                                    : merkle::Sha256(std::to_string(rng()));
      }
      auto leaves = manager.GetLeaves(id, revision, indices, true);
      if (!leaves.ok()) {
        std::fprintf(stderr, "%s\n", leaves.status().ToString().c_str());
        return 1;
      }
    }
    const double s = absl::ToDoubleSeconds(absl::Now() - start);
    std::printf("proofs at %s revision: %.0f/s (in-process, one thread)\n",
                revision < 0 ? "the latest" : "an old", proofs / s);
  }
  return 0;
}

}  // namespace
}  // namespace trellis

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  return trellis::Run();
}
