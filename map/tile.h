// Subtree tiles of a sparse Merkle map. The tile at tile depth d (0..31) and
// prefix p (the first d bytes of an index) holds the non-empty nodes at
// depths 8d+1 .. 8d+8 below p. A node whose subtree holds a single leaf is
// stored with that leaf ("single"), and nothing below it is stored: with
// n leaves only about log256(n) tiles lie on a leaf's path, not 32.
#ifndef TRELLIS_MAP_TILE_H_
#define TRELLIS_MAP_TILE_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::map {

inline constexpr int kTileHeight = 8;
inline constexpr int kTileDepths = 32;  // 256 / 8.

// A node of the map: empty, a plain interior node, or a subtree holding
// exactly one leaf.
struct NodeEntry {
  std::string hash;              // Empty for an empty subtree.
  std::string single_index;      // Set for a single-leaf subtree.
  std::string single_leaf_hash;  // That leaf's hash.

  bool empty() const { return hash.empty(); }
  bool single() const { return !single_index.empty(); }
};

// Slot of the node at `level` (1..8 below the tile root) and `offset`
// (0 .. 2^level - 1).
inline int TileSlot(int level, int offset) { return (1 << level) - 2 + offset; }

struct Tile {
  std::map<int, NodeEntry> nodes;  // By slot.

  const NodeEntry* Find(int level, int offset) const {
    auto it = nodes.find(TileSlot(level, offset));
    return it == nodes.end() ? nullptr : &it->second;
  }
};

std::string EncodeTile(const Tile& tile);
// DATA_LOSS for anything malformed.
absl::StatusOr<Tile> DecodeTile(absl::string_view bytes);

std::string EncodeNodeEntry(const NodeEntry& entry);
absl::StatusOr<NodeEntry> DecodeNodeEntry(absl::string_view bytes);

}  // namespace trellis::map

#endif  // TRELLIS_MAP_TILE_H_
