// Checks every root and proof the tile-based sparse tree produces against a
// naive recursive sparse Merkle tree, for each hash strategy, over a few
// hundred random indices including ones sharing long prefixes.
#include "merkle/smt/sparse_tree.h"

#include <map>
#include <random>

#include "gtest/gtest.h"
#include "merkle/smt/verifier.h"

namespace trellis::merkle::smt {
namespace {

constexpr int64_t kTree = 77;

// Tiles kept per revision in memory, as storage keeps them.
class MemoryTiles : public TileReader {
 public:
  absl::StatusOr<std::shared_ptr<const Tile>> ReadTile(
      const TileId& id) override {
    auto it = tiles_.find({id.depth, id.prefix});
    if (it == tiles_.end()) return nullptr;
    return std::make_shared<const Tile>(it->second);
  }
  void Write(std::vector<std::pair<TileId, Tile>> tiles) {
    for (auto& [id, tile] : tiles) {
      tiles_[{id.depth, id.prefix}] = std::move(tile);
    }
  }
  size_t size() const { return tiles_.size(); }
  const std::map<std::pair<int, std::string>, Tile>& all() const {
    return tiles_;
  }

 private:
  std::map<std::pair<int, std::string>, Tile> tiles_;
};

class MemoryTilesView : public TileReader {
 public:
  explicit MemoryTilesView(MemoryTiles& tiles) : tiles_(tiles) {}
  absl::StatusOr<std::shared_ptr<const Tile>> ReadTile(
      const TileId& id) override {
    return tiles_.ReadTile(id);
  }

 private:
  MemoryTiles& tiles_;
};

// The definition: a node's hash is the empty hash if no leaf is below it,
// the leaf hash at depth 256, and the hash of its two children otherwise.
class ReferenceMap {
 public:
  ReferenceMap(const MapHasher& hasher) : hasher_(hasher) {}
  void Set(const std::string& index, const std::string& leaf_hash) {
    leaves_[index] = leaf_hash;
  }
  std::string Root() { return Hash(0, std::string(32, '\0')); }
  // Sibling hashes along the path, leaf first.
  std::vector<std::string> Proof(const std::string& index) {
    std::vector<std::string> out(kIndexBits);
    for (int depth = kIndexBits; depth >= 1; --depth) {
      std::string sibling = MaskIndex(index, depth);
      sibling[(depth - 1) / 8] ^= static_cast<char>(0x80 >> ((depth - 1) % 8));
      out[kIndexBits - depth] = Hash(depth, sibling);
    }
    return out;
  }

 private:
  // Node at `depth` whose path is the first `depth` bits of `prefix`.
  std::string Hash(int depth, const std::string& prefix) {
    const std::string lo = MaskIndex(prefix, depth);
    std::string hi = lo;
    for (int bit = depth; bit < kIndexBits; ++bit) {
      hi[bit / 8] |= static_cast<char>(0x80 >> (bit % 8));
    }
    auto first = leaves_.lower_bound(lo);
    if (first == leaves_.end() || first->first > hi) {
      return hasher_.HashEmpty(kTree, lo, kIndexBits - depth);
    }
    if (depth == kIndexBits) return first->second;
    std::string right = lo;
    right[depth / 8] |= static_cast<char>(0x80 >> (depth % 8));
    return hasher_.HashChildren(Hash(depth + 1, lo), Hash(depth + 1, right));
  }

  const MapHasher& hasher_;
  std::map<std::string, std::string> leaves_;
};

std::string RandomIndex(std::mt19937_64& rng) {
  std::string index(32, '\0');
  for (char& c : index) c = static_cast<char>(rng());
  return index;
}

// Trillian's three map hashers, by name.
std::unique_ptr<MapHasher> HasherNamed(const std::string& name) {
  if (name == "coniks_sha512_256") return NewConiksSha512_256Hasher();
  if (name == "coniks_sha256") return NewConiksSha256Hasher();
  return NewTestMapHasher();
}

class SparseTreeTest : public ::testing::TestWithParam<std::string> {};

TEST_P(SparseTreeTest, AgreesWithTheNaiveTreeOnEveryRootAndProof) {
  std::unique_ptr<MapHasher> hasher = HasherNamed(GetParam());
  ReferenceMap reference(*hasher);
  MemoryTiles tiles;
  NodeEntry root;
  EXPECT_EQ(RootHash(*hasher, kTree, root), reference.Root());

  std::mt19937_64 rng(GetParam().size());
  std::vector<std::string> indices;
  // Random indices, and clusters sharing 8..255 leading bits (deep paths,
  // tile boundaries, siblings at the very bottom).
  for (int i = 0; i < 120; ++i) indices.push_back(RandomIndex(rng));
  for (int shared : {7, 8, 9, 63, 64, 200, 247, 248, 255}) {
    std::string base = RandomIndex(rng);
    for (int j = 0; j < 6; ++j) {
      std::string index = RandomIndex(rng);
      for (int bit = 0; bit < shared; ++bit) {
        const char mask = static_cast<char>(0x80 >> (bit % 8));
        index[bit / 8] = (index[bit / 8] & ~mask) | (base[bit / 8] & mask);
      }
      indices.push_back(index);
    }
  }
  std::shuffle(indices.begin(), indices.end(), rng);

  // Several revisions, some overwriting earlier leaves.
  size_t next = 0;
  for (int revision = 1; next < indices.size(); ++revision) {
    std::map<std::string, std::string> batch;
    const size_t size = 1 + rng() % 40;
    for (size_t i = 0; i < size && next < indices.size(); ++i, ++next) {
      batch[indices[next]] = hasher->HashLeaf(kTree, indices[next],
                                              "v" + std::to_string(revision));
    }
    if (revision % 3 == 0) {  // Overwrite an old leaf with a new value.
      batch[indices[0]] = hasher->HashLeaf(kTree, indices[0],
                                           "again" + std::to_string(revision));
    }
    std::vector<LeafHash> leaves;
    for (const auto& [index, hash] : batch) {
      leaves.push_back({index, hash});
      reference.Set(index, hash);
    }
    // Alternate single- and multi-threaded updates: both must agree.
    const TileReaderFactory readers = [&tiles] {
      return std::make_unique<MemoryTilesView>(tiles);
    };
    auto update =
        ApplyLeaves(*hasher, kTree, root, leaves, readers, 1 + revision % 3);
    ASSERT_TRUE(update.ok()) << update.status();
    tiles.Write(std::move(update->tiles));
    root = update->root;
    const std::string root_hash = RootHash(*hasher, kTree, root);
    ASSERT_EQ(root_hash, reference.Root()) << "revision " << revision;

    // Proofs of a few set and never-set indices match the reference and
    // verify.
    std::vector<std::string> probes = {indices[0], indices[next - 1],
                                       RandomIndex(rng)};
    std::string near = indices[next - 1];
    near[31] ^= 1;  // Shares 255 bits with a set leaf.
    probes.push_back(near);
    for (const std::string& probe : probes) {
      auto proof = BuildProof(*hasher, kTree, root, probe, tiles);
      ASSERT_TRUE(proof.ok()) << proof.status();
      std::vector<std::string> expected = reference.Proof(probe);
      for (int h = 0; h < kIndexBits; ++h) {
        // An empty entry must stand for an empty subtree there.
        std::string sibling_index = MaskIndex(probe, kIndexBits - h);
        sibling_index[(kIndexBits - h - 1) / 8] ^=
            static_cast<char>(0x80 >> ((kIndexBits - h - 1) % 8));
        const std::string got = proof->siblings[h].empty()
                                    ? hasher->HashEmpty(kTree, sibling_index, h)
                                    : proof->siblings[h];
        ASSERT_EQ(got, expected[h]) << "height " << h;
      }
      std::optional<std::string> value_set;
      const bool present = !proof->leaf_hash.empty();
      if (present) {
        // Find the value this leaf was set to by matching its hash.
        std::string value;
        for (int r = revision; r >= 1 && value.empty(); --r) {
          for (const std::string& v :
               {"v" + std::to_string(r), "again" + std::to_string(r)}) {
            if (hasher->HashLeaf(kTree, probe, v) == proof->leaf_hash)
              value = v;
          }
        }
        ASSERT_FALSE(value.empty());
        value_set = value;
      }
      std::optional<absl::string_view> value_view;
      if (value_set.has_value()) value_view = *value_set;
      EXPECT_TRUE(VerifyInclusion(*hasher, kTree, probe, value_view,
                                  proof->siblings, root_hash)
                      .ok());
      // The same proof does not verify another value or the other state.
      EXPECT_FALSE(VerifyInclusion(*hasher, kTree, probe, "forged",
                                   proof->siblings, root_hash)
                       .ok());
      if (present) {
        EXPECT_FALSE(VerifyInclusion(*hasher, kTree, probe, std::nullopt,
                                     proof->siblings, root_hash)
                         .ok());
      }
    }
  }
  // Far fewer tiles than 32 per leaf: single-leaf subtrees are not stored.
  EXPECT_LT(tiles.size(), indices.size() * 8);
  // Inside tiles only the bottom row and branching nodes are stored.
  for (const auto& [id, tile] : tiles.all()) {
    for (const PlacedNode& node : tile.Nodes()) {
      if (node.level == kTileHeight) continue;
      for (int child : {2 * node.offset, 2 * node.offset + 1}) {
        EXPECT_TRUE(tile.Find(node.level + 1, child) ||
                    tile.FindBelow(node.level + 1, child))
            << "tile " << id.first << " stores a node with an empty child";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllHashers, SparseTreeTest,
                         ::testing::Values("coniks_sha512_256", "coniks_sha256",
                                           "test"));

TEST(VerifierTest, RejectsMalformedProofs) {
  std::unique_ptr<MapHasher> hasher = NewConiksSha512_256Hasher();
  const std::string index(32, 'i');
  const std::string root = hasher->HashEmpty(kTree, "", 256);
  std::vector<std::string> proof(256);
  EXPECT_TRUE(
      VerifyInclusion(*hasher, kTree, index, std::nullopt, proof, root).ok());
  EXPECT_EQ(VerifyInclusion(*hasher, kTree, index, std::nullopt,
                            std::vector<std::string>(255), root)
                .code(),
            absl::StatusCode::kInvalidArgument);
  proof[3] = "short";
  EXPECT_EQ(
      VerifyInclusion(*hasher, kTree, index, std::nullopt, proof, root).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(*hasher, kTree, "short index", std::nullopt,
                            std::vector<std::string>(256), root)
                .code(),
            absl::StatusCode::kInvalidArgument);
  // Claiming a value where the map is empty fails.
  EXPECT_EQ(VerifyInclusion(*hasher, kTree, index, "x",
                            std::vector<std::string>(256), root)
                .code(),
            absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace trellis::merkle::smt
