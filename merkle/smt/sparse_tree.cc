#include "merkle/smt/sparse_tree.h"

#include <algorithm>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"

namespace trellis::merkle::smt {
namespace {

// The index whose first 8d + level bits are the tile prefix followed by
// `offset` (level bits): the position of a tile node.
std::string TileNodeIndex(const std::string& prefix, int level, int offset) {
  std::string index = prefix;
  index.push_back(static_cast<char>(offset << (kTileHeight - level)));
  index.resize(kIndexBytes, '\0');
  return index;
}

// The node holding only `leaf`, at `depth`: hashed up from the leaf through
// empty siblings. Adds the hashes it computes to `hashes`.
NodeEntry SingleLeafNode(const MapHasher& hasher, int64_t tree_id,
                         const LeafHash& leaf, int depth, uint64_t& hashes) {
  std::string hash = leaf.hash;
  // The sibling at depth d is the leaf's path with bit d-1 flipped (HashEmpty
  // ignores the bits below the node).
  std::string sibling = leaf.index;
  for (int d = kIndexBits; d > depth; --d) {
    const char bit = static_cast<char>(0x80 >> ((d - 1) % 8));
    sibling[(d - 1) / 8] ^= bit;
    const std::string empty =
        hasher.HashEmpty(tree_id, sibling, kIndexBits - d);
    sibling[(d - 1) / 8] ^= bit;
    hash = IndexBit(leaf.index, d - 1) == 0 ? hasher.HashChildren(hash, empty)
                                            : hasher.HashChildren(empty, hash);
    hashes += 2;
  }
  return NodeEntry{std::move(hash), leaf.index, leaf.hash};
}

// The hash of the tile node (level, offset) below `prefix` that is not
// stored because `below`, the only non-empty node under it, implies it:
// `below` hashed up through the empty subtrees beside it.
std::string ImpliedHash(const MapHasher& hasher, int64_t tree_id,
                        const std::string& prefix, int level,
                        const PlacedNode& below, uint64_t& hashes) {
  std::string hash(below.node.hash);
  const int tile_depth = kTileHeight * static_cast<int>(prefix.size());
  for (int l = below.level, offset = below.offset; l > level;
       --l, offset >>= 1) {
    const std::string empty =
        hasher.HashEmpty(tree_id, TileNodeIndex(prefix, l, offset ^ 1),
                         kIndexBits - (tile_depth + l));
    hash = offset % 2 == 0 ? hasher.HashChildren(hash, empty)
                           : hasher.HashChildren(empty, hash);
    hashes += 2;
  }
  return hash;
}

class Updater {
 public:
  Updater(const MapHasher& hasher, int64_t tree_id,
          const TileReaderFactory& readers, int threads)
      : hasher_(hasher),
        tree_id_(tree_id),
        readers_(readers),
        tiles_(readers()),
        threads_(threads) {}

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
    // The tile as stored; the nodes this update changes go to `changed`.
    std::shared_ptr<const Tile> base = EmptyTile();
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
      absl::StatusOr<std::shared_ptr<const Tile>> stored =
          tiles_->ReadTile({d, prefix});
      if (!stored.ok()) return stored.status();
      if (*stored == nullptr) {
        return absl::DataLossError(absl::StrCat(
            "map tile at depth ", d, " is missing under a stored node"));
      }
      base = std::move(*stored);
    }
    ChangedNodes changed;

    // Bottom row: one child per distinct next byte. The root tile's
    // children are independent subtrees, updated on several threads.
    std::vector<std::pair<int, absl::Span<const LeafHash>>> groups;
    for (size_t begin = 0; begin < leaves.size();) {
      const uint8_t byte = static_cast<uint8_t>(leaves[begin].index[d]);
      size_t end = begin + 1;
      while (end < leaves.size() &&
             static_cast<uint8_t>(leaves[end].index[d]) == byte) {
        ++end;
      }
      groups.emplace_back(byte, leaves.subspan(begin, end - begin));
      begin = end;
    }
    std::vector<int> dirty;
    if (d == kTileDepths - 1) {
      for (const auto& [byte, group] : groups) {
        changed[TileSlot(kTileHeight, byte)] = {
            NodeEntry{group[0].hash, "", ""}, true};  // A leaf.
        dirty.push_back(byte);
      }
    } else {
      absl::StatusOr<std::vector<NodeEntry>> children =
          d == 0 && threads_ > 1
              ? UpdateChildrenInParallel(prefix, *base, groups)
              : UpdateChildren(d, prefix, *base, groups);
      if (!children.ok()) return children.status();
      for (size_t i = 0; i < groups.size(); ++i) {
        changed[TileSlot(kTileHeight, groups[i].first)] = {
            std::move((*children)[i]), true};
        dirty.push_back(groups[i].first);
      }
    }

    // Rehash the dirty paths up to the tile root. A changed interior node is
    // stored only if both its children are non-empty.
    for (int level = kTileHeight - 1; level >= 0; --level) {
      std::vector<int> parents;
      for (int offset : dirty) {
        if (parents.empty() || parents.back() != offset / 2) {
          parents.push_back(offset / 2);
        }
      }
      for (int parent : parents) {
        const std::string left =
            NodeHash(*base, changed, prefix, level + 1, 2 * parent);
        const std::string right =
            NodeHash(*base, changed, prefix, level + 1, 2 * parent + 1);
        const bool branching = !left.empty() && !right.empty();
        ++hashes_;
        std::string hash = hasher_.HashChildren(
            left.empty() ? EmptyHash(prefix, level + 1, 2 * parent) : left,
            right.empty() ? EmptyHash(prefix, level + 1, 2 * parent + 1)
                          : right);
        if (level == 0) {
          tiles_out_.emplace_back(TileId{d, prefix}, MergeTile(*base, changed));
          return NodeEntry{std::move(hash), "", ""};
        }
        changed[TileSlot(level, parent)] = {NodeEntry{std::move(hash), "", ""},
                                            branching};
      }
      dirty = std::move(parents);
    }
    return absl::InternalError("unreachable");
  }

  NodeEntry Single(const LeafHash& leaf, int depth) {
    return SingleLeafNode(hasher_, tree_id_, leaf, depth, hashes_);
  }

  std::vector<std::pair<TileId, Tile>> TakeTiles() {
    return std::move(tiles_out_);
  }
  uint64_t hashes() const { return hashes_; }

 private:
  using Groups = std::vector<std::pair<int, absl::Span<const LeafHash>>>;
  struct ChangedNode {
    NodeEntry node;
    bool stored;  // A bottom-row or branching node.
  };
  using ChangedNodes = std::map<int, ChangedNode>;  // By slot.

  static std::shared_ptr<const Tile> EmptyTile() {
    static const auto* const kEmpty = new std::shared_ptr<const Tile>(
        std::make_shared<const Tile>(TileWriter().Finish()));
    return *kEmpty;
  }

  // The new child node of each group, in order.
  absl::StatusOr<std::vector<NodeEntry>> UpdateChildren(
      int d, const std::string& prefix, const Tile& tile,
      const Groups& groups) {
    std::vector<NodeEntry> children;
    children.reserve(groups.size());
    for (const auto& [byte, group] : groups) {
      std::optional<NodeRef> old_child = tile.Find(kTileHeight, byte);
      std::string child_prefix = prefix;
      child_prefix.push_back(static_cast<char>(byte));
      absl::StatusOr<NodeEntry> child =
          Update(d + 1, child_prefix,
                 old_child ? old_child->ToEntry() : NodeEntry{}, group);
      if (!child.ok()) return child.status();
      children.push_back(std::move(*child));
    }
    return children;
  }

  // UpdateChildren for the root tile, split over threads_ helpers, each with
  // its own tile reader.
  absl::StatusOr<std::vector<NodeEntry>> UpdateChildrenInParallel(
      const std::string& prefix, const Tile& tile, const Groups& groups) {
    const size_t parts = std::min<size_t>(threads_, groups.size());
    std::vector<Updater> helpers;
    helpers.reserve(parts);
    for (size_t i = 0; i < parts; ++i) {
      helpers.emplace_back(hasher_, tree_id_, readers_, 1);
    }
    std::vector<absl::StatusOr<std::vector<NodeEntry>>> results(parts);
    std::vector<std::thread> threads;
    for (size_t i = 0; i < parts; ++i) {
      threads.emplace_back([&, i] {
        const size_t begin = groups.size() * i / parts;
        const size_t end = groups.size() * (i + 1) / parts;
        results[i] = helpers[i].UpdateChildren(
            0, prefix, tile,
            Groups(groups.begin() + begin, groups.begin() + end));
      });
    }
    for (std::thread& t : threads) t.join();
    std::vector<NodeEntry> children;
    for (size_t i = 0; i < parts; ++i) {
      if (!results[i].ok()) return results[i].status();
      for (NodeEntry& e : *results[i]) children.push_back(std::move(e));
      for (auto& t : helpers[i].TakeTiles()) tiles_out_.push_back(std::move(t));
      hashes_ += helpers[i].hashes();
    }
    return children;
  }

  // Hash of the tile node (level, offset) after the update; empty if its
  // subtree is empty.
  std::string NodeHash(const Tile& base, const ChangedNodes& changed,
                       const std::string& prefix, int level, int offset) {
    if (auto it = changed.find(TileSlot(level, offset)); it != changed.end()) {
      return it->second.node.hash;
    }
    // Unchanged, so the stored tile describes its subtree.
    if (std::optional<NodeRef> node = base.Find(level, offset)) {
      return std::string(node->hash);
    }
    if (std::optional<PlacedNode> below = base.FindBelow(level, offset)) {
      return ImpliedHash(hasher_, tree_id_, prefix, level, *below, hashes_);
    }
    return "";
  }

  std::string EmptyHash(const std::string& prefix, int level, int offset) {
    ++hashes_;
    const int depth = kTileHeight * static_cast<int>(prefix.size()) + level;
    return hasher_.HashEmpty(tree_id_, TileNodeIndex(prefix, level, offset),
                             kIndexBits - depth);
  }

  // The stored nodes of `base` with `changed` applied.
  static Tile MergeTile(const Tile& base, const ChangedNodes& changed) {
    TileWriter writer;
    const std::vector<PlacedNode> old = base.Nodes();
    auto next_old = old.begin();
    auto add_old_before = [&](int slot) {
      for (; next_old != old.end() &&
             TileSlot(next_old->level, next_old->offset) < slot;
           ++next_old) {
        writer.Add(next_old->level, next_old->offset, next_old->node);
      }
    };
    for (const auto& [slot, change] : changed) {
      add_old_before(slot);
      if (next_old != old.end() &&
          TileSlot(next_old->level, next_old->offset) == slot) {
        ++next_old;  // Replaced.
      }
      if (change.stored) {
        const int level = TileSlotLevel(slot);
        writer.Add(level, slot - TileSlot(level, 0), change.node);
      }
    }
    add_old_before(kTileSlots);
    return writer.Finish();
  }

  const MapHasher& hasher_;
  const int64_t tree_id_;
  const TileReaderFactory& readers_;
  std::unique_ptr<TileReader> tiles_;
  const int threads_;
  std::vector<std::pair<TileId, Tile>> tiles_out_;
  uint64_t hashes_ = 0;
};

}  // namespace

absl::StatusOr<TreeUpdate> ApplyLeaves(const MapHasher& hasher, int64_t tree_id,
                                       const NodeEntry& root,
                                       absl::Span<const LeafHash> leaves,
                                       const TileReaderFactory& readers,
                                       int threads) {
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
  Updater updater(hasher, tree_id, readers, threads);
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
      uint64_t unused = 0;
      proof.siblings[kIndexBits - depth] =
          SingleLeafNode(hasher, tree_id,
                         {entry.single_index, entry.single_leaf_hash}, depth,
                         unused)
              .hash;
      break;
    }
    const std::string prefix(index.substr(0, d));
    absl::StatusOr<std::shared_ptr<const Tile>> tile =
        tiles.ReadTile({d, prefix});
    if (!tile.ok()) return tile.status();
    if (*tile == nullptr) {
      return absl::DataLossError("map tile missing under a stored node");
    }
    const uint8_t byte = static_cast<uint8_t>(index[d]);
    for (int level = 1; level <= kTileHeight; ++level) {
      const int sibling = (byte >> (kTileHeight - level)) ^ 1;
      std::string& out = proof.siblings[kIndexBits - (kTileHeight * d + level)];
      if (std::optional<NodeRef> node = (*tile)->Find(level, sibling)) {
        out = std::string(node->hash);
      } else if (std::optional<PlacedNode> below =
                     (*tile)->FindBelow(level, sibling)) {
        uint64_t unused = 0;
        out = ImpliedHash(hasher, tree_id, prefix, level, *below, unused);
      }
    }
    std::optional<NodeRef> child = (*tile)->Find(kTileHeight, byte);
    if (d == kTileDepths - 1) {
      if (child) proof.leaf_hash = std::string(child->hash);
      break;
    }
    entry = child ? child->ToEntry() : NodeEntry{};
  }
  return proof;
}

}  // namespace trellis::merkle::smt
