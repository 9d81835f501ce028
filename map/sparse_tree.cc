#include "map/sparse_tree.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace trellis::map {
namespace {

// The index of the node at `depth` on the path of `index` whose last bit is
// flipped: the sibling of that path node.
std::string SiblingIndex(absl::string_view index, int depth) {
  std::string sibling = MaskIndex(index, depth);
  sibling[(depth - 1) / 8] ^= static_cast<char>(0x80 >> ((depth - 1) % 8));
  return sibling;
}

// The index whose first 8d + level bits are the tile prefix followed by
// `offset` (level bits): the position of a tile node.
std::string TileNodeIndex(const std::string& prefix, int level, int offset) {
  std::string index = prefix;
  index.push_back(static_cast<char>(offset << (kTileHeight - level)));
  index.resize(kIndexBytes, '\0');
  return index;
}

class Updater {
 public:
  Updater(const MapHasher& hasher, int64_t tree_id, TileReader& tiles)
      : hasher_(hasher), tree_id_(tree_id), tiles_(tiles) {}

  // The node at depth 8d on `prefix` after applying `leaves` below it.
  absl::StatusOr<NodeEntry> Update(int d, const std::string& prefix,
                                   const NodeEntry& old,
                                   absl::Span<const LeafHash> leaves) {
    const int depth = kTileHeight * d;
    if (leaves.size() == 1 &&
        (old.empty() ||
         (old.single() && old.single_index == leaves[0].index))) {
      return Single(leaves[0], depth);
    }
    Tile tile;
    std::vector<LeafHash> merged;
    if (old.single()) {
      // The subtree's only leaf moves down into real tiles, unless replaced.
      merged.assign(leaves.begin(), leaves.end());
      LeafHash existing{old.single_index, old.single_leaf_hash};
      auto pos = std::lower_bound(merged.begin(), merged.end(), existing,
                                  [](const LeafHash& a, const LeafHash& b) {
                                    return a.index < b.index;
                                  });
      if (pos == merged.end() || pos->index != existing.index) {
        merged.insert(pos, std::move(existing));
      }
      leaves = merged;
    } else if (!old.empty()) {
      absl::StatusOr<std::optional<Tile>> stored = tiles_.ReadTile({d, prefix});
      if (!stored.ok()) return stored.status();
      if (!stored->has_value()) {
        return absl::DataLossError(absl::StrCat(
            "map tile at depth ", d, " is missing under a stored node"));
      }
      tile = std::move(**stored);
    }

    // Bottom row: one child per distinct next byte.
    std::vector<int> dirty;
    for (size_t begin = 0; begin < leaves.size();) {
      const uint8_t byte = static_cast<uint8_t>(leaves[begin].index[d]);
      size_t end = begin + 1;
      while (end < leaves.size() &&
             static_cast<uint8_t>(leaves[end].index[d]) == byte) {
        ++end;
      }
      const int slot = TileSlot(kTileHeight, byte);
      if (d == kTileDepths - 1) {
        tile.nodes[slot] = NodeEntry{leaves[begin].hash, "", ""};  // A leaf.
      } else {
        auto it = tile.nodes.find(slot);
        const NodeEntry old_child =
            it == tile.nodes.end() ? NodeEntry{} : it->second;
        std::string child_prefix = prefix;
        child_prefix.push_back(static_cast<char>(byte));
        absl::StatusOr<NodeEntry> child = Update(
            d + 1, child_prefix, old_child, leaves.subspan(begin, end - begin));
        if (!child.ok()) return child.status();
        tile.nodes[slot] = std::move(*child);
      }
      dirty.push_back(byte);
      begin = end;
    }

    // Rehash the dirty paths up to the tile root.
    for (int level = kTileHeight - 1; level >= 0; --level) {
      std::vector<int> parents;
      for (int offset : dirty) {
        if (parents.empty() || parents.back() != offset / 2) {
          parents.push_back(offset / 2);
        }
      }
      for (int parent : parents) {
        const std::string left = NodeHash(tile, prefix, level + 1, 2 * parent);
        const std::string right =
            NodeHash(tile, prefix, level + 1, 2 * parent + 1);
        ++hashes_;
        std::string hash = hasher_.HashChildren(left, right);
        if (level == 0) {
          tiles_out_.emplace_back(TileId{d, prefix}, std::move(tile));
          return NodeEntry{std::move(hash), "", ""};
        }
        tile.nodes[TileSlot(level, parent)] =
            NodeEntry{std::move(hash), "", ""};
      }
      dirty = std::move(parents);
    }
    return absl::InternalError("unreachable");
  }

  // The node holding only `leaf`, at `depth`: hashed up from the leaf
  // through empty siblings.
  NodeEntry Single(const LeafHash& leaf, int depth) {
    std::string hash = leaf.hash;
    for (int d = kIndexBits; d > depth; --d) {
      const std::string empty = hasher_.HashEmpty(
          tree_id_, SiblingIndex(leaf.index, d), kIndexBits - d);
      hash = IndexBit(leaf.index, d - 1) == 0
                 ? hasher_.HashChildren(hash, empty)
                 : hasher_.HashChildren(empty, hash);
      hashes_ += 2;
    }
    return NodeEntry{std::move(hash), leaf.index, leaf.hash};
  }

  std::vector<std::pair<TileId, Tile>> TakeTiles() {
    return std::move(tiles_out_);
  }
  uint64_t hashes() const { return hashes_; }

 private:
  // Hash of the tile node (level, offset), or of the empty subtree there.
  std::string NodeHash(const Tile& tile, const std::string& prefix, int level,
                       int offset) {
    if (const NodeEntry* e = tile.Find(level, offset)) return e->hash;
    ++hashes_;
    const int depth = kTileHeight * static_cast<int>(prefix.size()) + level;
    return hasher_.HashEmpty(tree_id_, TileNodeIndex(prefix, level, offset),
                             kIndexBits - depth);
  }

  const MapHasher& hasher_;
  const int64_t tree_id_;
  TileReader& tiles_;
  std::vector<std::pair<TileId, Tile>> tiles_out_;
  uint64_t hashes_ = 0;
};

}  // namespace

absl::StatusOr<TreeUpdate> ApplyLeaves(const MapHasher& hasher, int64_t tree_id,
                                       const NodeEntry& root,
                                       absl::Span<const LeafHash> leaves,
                                       TileReader& tiles) {
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (leaves[i].index.size() != kIndexBytes) {
      return absl::InvalidArgumentError("map index must be 32 bytes");
    }
    if (i > 0 && !(leaves[i - 1].index < leaves[i].index)) {
      return absl::InvalidArgumentError("map leaves must be sorted and unique");
    }
  }
  TreeUpdate update;
  if (leaves.empty()) {
    update.root = root;
    return update;
  }
  Updater updater(hasher, tree_id, tiles);
  absl::StatusOr<NodeEntry> new_root = updater.Update(0, "", root, leaves);
  if (!new_root.ok()) return new_root.status();
  update.root = std::move(*new_root);
  update.tiles = updater.TakeTiles();
  update.hashes = updater.hashes();
  return update;
}

std::string RootHash(const MapHasher& hasher, int64_t tree_id,
                     const NodeEntry& root) {
  return root.empty() ? hasher.HashEmpty(tree_id, "", kIndexBits) : root.hash;
}

absl::StatusOr<MapProof> BuildProof(const MapHasher& hasher, int64_t tree_id,
                                    const NodeEntry& root,
                                    absl::string_view index,
                                    TileReader& tiles) {
  if (index.size() != kIndexBytes) {
    return absl::InvalidArgumentError("map index must be 32 bytes");
  }
  MapProof proof;
  proof.siblings.assign(kIndexBits, "");
  NodeEntry entry = root;
  for (int d = 0; !entry.empty(); ++d) {
    if (entry.single()) {
      if (entry.single_index == index) {
        proof.leaf_hash = entry.single_leaf_hash;
        break;
      }
      // The paths part at the first differing bit; the other leaf's subtree
      // is the sibling there, everything else on our path is empty.
      int bit = kTileHeight * d;
      while (IndexBit(index, bit) == IndexBit(entry.single_index, bit)) ++bit;
      const int depth = bit + 1;
      NodeEntry other;
      Updater updater(hasher, tree_id, tiles);
      other =
          updater.Single({entry.single_index, entry.single_leaf_hash}, depth);
      proof.siblings[kIndexBits - depth] = other.hash;
      break;
    }
    const std::string prefix(index.substr(0, d));
    absl::StatusOr<std::optional<Tile>> tile = tiles.ReadTile({d, prefix});
    if (!tile.ok()) return tile.status();
    if (!tile->has_value()) {
      return absl::DataLossError("map tile missing under a stored node");
    }
    const uint8_t byte = static_cast<uint8_t>(index[d]);
    for (int level = 1; level <= kTileHeight; ++level) {
      const int offset = byte >> (kTileHeight - level);
      if (const NodeEntry* sibling = (*tile)->Find(level, offset ^ 1)) {
        proof.siblings[kIndexBits - (kTileHeight * d + level)] = sibling->hash;
      }
    }
    const NodeEntry* child = (*tile)->Find(kTileHeight, byte);
    if (d == kTileDepths - 1) {
      if (child != nullptr) proof.leaf_hash = child->hash;
      break;
    }
    entry = child != nullptr ? *child : NodeEntry{};
  }
  return proof;
}

}  // namespace trellis::map
