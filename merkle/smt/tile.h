// Subtree tiles of a sparse Merkle map. The tile at tile depth d (0..31) and
// prefix p (the first d bytes of an index) covers the nodes at depths
// 8d+1 .. 8d+8 below p. It stores its bottom row (the non-empty nodes at
// depth 8d+8) and the interior nodes whose two children are both non-empty;
// an interior node with one non-empty child is implied by that child and the
// empty subtree beside it, so it is recomputed, not stored (a tile holding
// k leaves stores 2k - 1 nodes, not up to 8k). A bottom-row node whose
// subtree holds a single leaf is stored with that leaf ("single"), and
// nothing below it is stored: with n leaves only about log256(n) tiles lie
// on a leaf's path, not 32.
#ifndef TRELLIS_MERKLE_SMT_TILE_H_
#define TRELLIS_MERKLE_SMT_TILE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::merkle::smt {

inline constexpr int kTileHeight = 8;
inline constexpr int kTileDepths = 32;  // 256 / 8.
// Slots of the nodes at levels 1..8 below a tile's root.
inline constexpr int kTileSlots = (1 << (kTileHeight + 1)) - 2;

// Slot of the node at `level` (1..8 below the tile root) and `offset`
// (0 .. 2^level - 1).
inline int TileSlot(int level, int offset) { return (1 << level) - 2 + offset; }
// The level of a slot.
int TileSlotLevel(int slot);

// A node of the map: empty, a plain interior node, or a subtree holding
// exactly one leaf.
struct NodeEntry {
  std::string hash;              // Empty for an empty subtree.
  std::string single_index;      // Set for a single-leaf subtree.
  std::string single_leaf_hash;  // That leaf's hash.

  bool empty() const { return hash.empty(); }
  bool single() const { return !single_index.empty(); }
};

// A node as stored in a tile: views into the tile's bytes.
struct NodeRef {
  absl::string_view hash;
  absl::string_view single_index;  // Empty unless a single-leaf subtree.
  absl::string_view single_leaf_hash;

  bool single() const { return !single_index.empty(); }
  NodeEntry ToEntry() const;
};

// A stored node and where it is in its tile.
struct PlacedNode {
  int level;
  int offset;
  NodeRef node;
};

// An immutable tile in its stored encoding, indexed by slot so that reading a
// node allocates nothing and a cached tile costs about its encoded size.
class Tile {
 public:
  Tile() = default;

  // DATA_LOSS for anything malformed.
  static absl::StatusOr<Tile> Parse(std::string bytes);

  const std::string& bytes() const { return bytes_; }
  size_t size() const { return index_.size(); }
  size_t MemoryUsage() const {
    return sizeof(Tile) + bytes_.capacity() + index_.capacity() * sizeof(Entry);
  }

  // The node stored at (level, offset), if any.
  std::optional<NodeRef> Find(int level, int offset) const;
  // The highest stored node in the subtree of (level, offset), excluding
  // that node itself: for a node that is not stored, the node that implies
  // it, or nullopt if the subtree is empty.
  std::optional<PlacedNode> FindBelow(int level, int offset) const;
  // Every stored node, in slot order.
  std::vector<PlacedNode> Nodes() const;

 private:
  friend class TileWriter;
  struct Entry {
    uint16_t slot;
    uint32_t offset;  // Of the node's encoding in bytes_.
  };

  NodeRef NodeAt(const Entry& entry) const;

  std::string bytes_;
  std::vector<Entry> index_;  // By slot.
};

// Encodes nodes as a tile. Nodes must be added in increasing slot order.
class TileWriter {
 public:
  TileWriter();
  void Add(int level, int offset, const NodeEntry& node);
  void Add(int level, int offset, const NodeRef& node);
  // The tile; the writer must not be used afterwards.
  Tile Finish();

 private:
  Tile tile_;
};

std::string EncodeNodeEntry(const NodeEntry& entry);
absl::StatusOr<NodeEntry> DecodeNodeEntry(absl::string_view bytes);

}  // namespace trellis::merkle::smt

#endif  // TRELLIS_MERKLE_SMT_TILE_H_
