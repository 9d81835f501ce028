// The sparse Merkle map's algorithms over subtree tiles: applying a batch of
// leaf updates (one revision) and building inclusion / absence proofs. They
// know nothing of storage: tiles come from a TileReader and new tiles are
// returned to be written.
#ifndef TRELLIS_MERKLE_SMT_SPARSE_TREE_H_
#define TRELLIS_MERKLE_SMT_SPARSE_TREE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "merkle/smt/hasher.h"
#include "merkle/smt/tile.h"

namespace trellis::merkle::smt {

// Identifies a tile: its depth (0..31) and prefix (depth bytes).
struct TileId {
  int depth;
  std::string prefix;
};

class TileReader {
 public:
  virtual ~TileReader() = default;
  // The tile as of the reader's revision, or null if none was written.
  // Stored tiles are immutable, so readers may share them.
  virtual absl::StatusOr<std::shared_ptr<const Tile>> ReadTile(
      const TileId& id) = 0;
};

// Makes a reader per thread (readers need not be thread-safe).
using TileReaderFactory = std::function<std::unique_ptr<TileReader>()>;

struct LeafHash {
  std::string index;  // 32 bytes.
  std::string hash;
};

struct TreeUpdate {
  NodeEntry root;
  std::vector<std::pair<TileId, Tile>> tiles;  // To write at the revision.
  uint64_t hashes = 0;                         // Hash computations used.
};

// Applies `leaves` (unique 32-byte indices, sorted ascending) to the tree
// whose root node is `root` (empty for an empty map), hashing on up to
// `threads` threads.
absl::StatusOr<TreeUpdate> ApplyLeaves(const MapHasher& hasher, int64_t tree_id,
                                       const NodeEntry& root,
                                       absl::Span<const LeafHash> leaves,
                                       const TileReaderFactory& readers,
                                       int threads = 1);

// The root hash of a tree whose root node is `root`.
std::string RootHash(const MapHasher& hasher, int64_t tree_id,
                     const NodeEntry& root);

struct MapProof {
  // 256 sibling hashes, index 0 = the leaf's sibling; empty = empty subtree.
  std::vector<std::string> siblings;
  // The leaf's hash if the index is set, else empty.
  std::string leaf_hash;
};

// Inclusion proof of `index` (32 bytes), or its absence proof.
absl::StatusOr<MapProof> BuildProof(const MapHasher& hasher, int64_t tree_id,
                                    const NodeEntry& root,
                                    absl::string_view index, TileReader& tiles);

}  // namespace trellis::merkle::smt

#endif  // TRELLIS_MERKLE_SMT_SPARSE_TREE_H_
