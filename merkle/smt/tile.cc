#include "merkle/smt/tile.h"

#include <algorithm>

#include "merkle/smt/hasher.h"
#include "util/tls_codec.h"

namespace trellis::merkle::smt {
namespace {

// Entry: kind(1: 0 empty, 1 plain, 2 single) hash<1> [index<1> leaf_hash<1>];
// a tile: count(2) then (slot(2) entry) in increasing slot order.
constexpr uint8_t kEmpty = 0;
constexpr uint8_t kPlain = 1;
constexpr uint8_t kSingle = 2;

void PutEntry(std::string& out, absl::string_view hash,
              absl::string_view single_index,
              absl::string_view single_leaf_hash) {
  const bool single = !single_index.empty();
  PutUint(out, hash.empty() ? kEmpty : single ? kSingle : kPlain, 1);
  if (hash.empty()) return;
  PutUint(out, hash.size(), 1);
  out.append(hash.data(), hash.size());
  if (!single) return;
  PutUint(out, single_index.size(), 1);
  out.append(single_index.data(), single_index.size());
  PutUint(out, single_leaf_hash.size(), 1);
  out.append(single_leaf_hash.data(), single_leaf_hash.size());
}

// Reads one entry at `reader`; false if malformed.
bool ReadEntry(TlsReader& reader, NodeRef& node, bool allow_empty) {
  const uint64_t kind = reader.ReadUint(1);
  if (!reader.ok() || kind > kSingle) return false;
  if (kind == kEmpty) return allow_empty;
  node.hash = reader.ReadOpaqueView(1);
  if (kind == kSingle) {
    node.single_index = reader.ReadOpaqueView(1);
    node.single_leaf_hash = reader.ReadOpaqueView(1);
    if (node.single_index.size() != kIndexBytes ||
        node.single_leaf_hash.empty()) {
      return false;
    }
  }
  return reader.ok() && !node.hash.empty();
}

}  // namespace

int TileSlotLevel(int slot) {
  int level = 1;
  while (level < kTileHeight && TileSlot(level + 1, 0) <= slot) ++level;
  return level;
}

NodeEntry NodeRef::ToEntry() const {
  return NodeEntry{std::string(hash), std::string(single_index),
                   std::string(single_leaf_hash)};
}

absl::StatusOr<Tile> Tile::Parse(std::string bytes) {
  Tile tile;
  tile.bytes_ = std::move(bytes);
  TlsReader reader(tile.bytes_);
  const uint64_t count = reader.ReadUint(2);
  if (!reader.ok() || count > kTileSlots) {
    return absl::DataLossError("malformed map tile");
  }
  tile.index_.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t slot = reader.ReadUint(2);
    const size_t offset = tile.bytes_.size() - reader.remaining();
    NodeRef node;
    if (!reader.ok() || slot >= kTileSlots ||
        (!tile.index_.empty() && slot <= tile.index_.back().slot) ||
        !ReadEntry(reader, node, /*allow_empty=*/false)) {
      return absl::DataLossError("malformed map tile");
    }
    tile.index_.push_back(
        {static_cast<uint16_t>(slot), static_cast<uint32_t>(offset)});
  }
  if (!reader.done()) return absl::DataLossError("malformed map tile");
  return tile;
}

NodeRef Tile::NodeAt(const Entry& entry) const {
  TlsReader reader(absl::string_view(bytes_).substr(entry.offset));
  NodeRef node;
  ReadEntry(reader, node, /*allow_empty=*/false);  // Checked by Parse.
  return node;
}

std::optional<NodeRef> Tile::Find(int level, int offset) const {
  const int slot = TileSlot(level, offset);
  auto it = std::lower_bound(
      index_.begin(), index_.end(), slot,
      [](const Entry& e, int s) { return static_cast<int>(e.slot) < s; });
  if (it == index_.end() || it->slot != slot) return std::nullopt;
  return NodeAt(*it);
}

std::optional<PlacedNode> Tile::FindBelow(int level, int offset) const {
  for (int below = level + 1; below <= kTileHeight; ++below) {
    const int shift = below - level;
    const int first = TileSlot(below, offset << shift);
    const int end = TileSlot(below, (offset + 1) << shift);
    auto it = std::lower_bound(
        index_.begin(), index_.end(), first,
        [](const Entry& e, int s) { return static_cast<int>(e.slot) < s; });
    if (it != index_.end() && it->slot < end) {
      return PlacedNode{below, it->slot - TileSlot(below, 0), NodeAt(*it)};
    }
  }
  return std::nullopt;
}

std::vector<PlacedNode> Tile::Nodes() const {
  std::vector<PlacedNode> nodes;
  nodes.reserve(index_.size());
  for (const Entry& e : index_) {
    const int level = TileSlotLevel(e.slot);
    nodes.push_back({level, e.slot - TileSlot(level, 0), NodeAt(e)});
  }
  return nodes;
}

TileWriter::TileWriter() { PutUint(tile_.bytes_, 0, 2); }

void TileWriter::Add(int level, int offset, const NodeEntry& node) {
  Add(level, offset,
      NodeRef{node.hash, node.single_index, node.single_leaf_hash});
}

void TileWriter::Add(int level, int offset, const NodeRef& node) {
  const int slot = TileSlot(level, offset);
  PutUint(tile_.bytes_, slot, 2);
  tile_.index_.push_back({static_cast<uint16_t>(slot),
                          static_cast<uint32_t>(tile_.bytes_.size())});
  PutEntry(tile_.bytes_, node.hash, node.single_index, node.single_leaf_hash);
}

Tile TileWriter::Finish() {
  const size_t count = tile_.index_.size();
  tile_.bytes_[0] = static_cast<char>(count >> 8);
  tile_.bytes_[1] = static_cast<char>(count & 0xff);
  return std::move(tile_);
}

std::string EncodeNodeEntry(const NodeEntry& entry) {
  std::string out;
  PutEntry(out, entry.hash, entry.single_index, entry.single_leaf_hash);
  return out;
}

absl::StatusOr<NodeEntry> DecodeNodeEntry(absl::string_view bytes) {
  TlsReader reader(bytes);
  NodeRef node;
  if (!ReadEntry(reader, node, /*allow_empty=*/true) || !reader.done()) {
    return absl::DataLossError("malformed map node");
  }
  return node.ToEntry();
}

}  // namespace trellis::merkle::smt
