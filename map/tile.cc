#include "map/tile.h"

#include "util/tls_codec.h"

namespace trellis::map {
namespace {

constexpr int kMaxSlot = (1 << (kTileHeight + 1)) - 2;

// kind(1: 0 empty, 1 plain, 2 single) hash<1> [index<1> leaf_hash<1>]
void PutEntry(std::string& out, const NodeEntry& e) {
  PutUint(out, e.empty() ? 0 : e.single() ? 2 : 1, 1);
  if (e.empty()) return;
  PutUint(out, e.hash.size(), 1);
  out += e.hash;
  if (!e.single()) return;
  PutUint(out, e.single_index.size(), 1);
  out += e.single_index;
  PutUint(out, e.single_leaf_hash.size(), 1);
  out += e.single_leaf_hash;
}

bool ReadEntry(TlsReader& reader, NodeEntry& e) {
  const uint64_t kind = reader.ReadUint(1);
  if (kind > 2) return false;
  if (kind == 0) return reader.ok();
  e.hash = reader.ReadOpaque(1);
  if (kind == 2) {
    e.single_index = reader.ReadOpaque(1);
    e.single_leaf_hash = reader.ReadOpaque(1);
    if (e.single_index.empty()) return false;
  }
  return reader.ok() && !e.hash.empty();
}

}  // namespace

std::string EncodeTile(const Tile& tile) {
  std::string out;
  PutUint(out, tile.nodes.size(), 2);
  for (const auto& [slot, entry] : tile.nodes) {
    PutUint(out, slot, 2);
    PutEntry(out, entry);
  }
  return out;
}

absl::StatusOr<Tile> DecodeTile(absl::string_view bytes) {
  TlsReader reader(bytes);
  const uint64_t count = reader.ReadUint(2);
  Tile tile;
  for (uint64_t i = 0; i < count && reader.ok(); ++i) {
    const uint64_t slot = reader.ReadUint(2);
    NodeEntry entry;
    if (slot >= kMaxSlot || !ReadEntry(reader, entry) || entry.empty()) {
      return absl::DataLossError("malformed map tile");
    }
    tile.nodes.emplace(static_cast<int>(slot), std::move(entry));
  }
  if (!reader.done() || tile.nodes.size() != count) {
    return absl::DataLossError("malformed map tile");
  }
  return tile;
}

std::string EncodeNodeEntry(const NodeEntry& entry) {
  std::string out;
  PutEntry(out, entry);
  return out;
}

absl::StatusOr<NodeEntry> DecodeNodeEntry(absl::string_view bytes) {
  TlsReader reader(bytes);
  NodeEntry entry;
  if (!ReadEntry(reader, entry) || !reader.done()) {
    return absl::DataLossError("malformed map node");
  }
  return entry;
}

}  // namespace trellis::map
