#include "tlog/tile_hash_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "merkle/hasher.h"

namespace trellis::tlog {
namespace {

constexpr size_t kHashBytes = 32;

}  // namespace

absl::StatusOr<std::vector<std::string>> TileHashReader::GetNodes(
    absl::Span<const merkle::NodeID> ids) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const merkle::NodeID& id : ids) {
    absl::StatusOr<std::string> node = GetNode(id);
    if (!node.ok()) return node.status();
    out.push_back(*std::move(node));
  }
  return out;
}

absl::StatusOr<std::string> TileHashReader::GetNode(const merkle::NodeID& id) {
  // A whole node fits below the size exactly when its index is below the
  // number of such nodes (no overflow, unlike End()).
  if (id.level >= 64 || id.index >= (tree_size_ >> id.level)) {
    return absl::OutOfRangeError(absl::StrCat("node ", id.level, "/", id.index,
                                              " is beyond a tree of ",
                                              tree_size_, " leaves"));
  }
  // The node's tile holds the nodes at level 8 * (level / 8); this node
  // is the root of 2^row of them.
  const int tile_level = id.level / kTileHeight;
  const int row = id.level % kTileHeight;
  const uint64_t first = id.index << row;
  absl::StatusOr<const std::string*> tile =
      Tile(tile_level, first / kTileWidth);
  if (!tile.ok()) return tile.status();
  std::vector<std::string> hashes;
  const size_t offset = first % kTileWidth;
  for (size_t i = 0; i < (size_t{1} << row); ++i) {
    hashes.push_back((*tile)->substr((offset + i) * kHashBytes, kHashBytes));
  }
  while (hashes.size() > 1) {
    for (size_t i = 0; i < hashes.size() / 2; ++i) {
      hashes[i] = merkle::HashChildren(hashes[2 * i], hashes[2 * i + 1]);
    }
    hashes.resize(hashes.size() / 2);
  }
  return hashes.front();
}

absl::StatusOr<const std::string*> TileHashReader::Tile(int level,
                                                        uint64_t index) {
  auto it = tiles_.find({level, index});
  if (it != tiles_.end()) return &it->second;
  // Nodes of this tile level that a tree of this size has, in this tile.
  const uint64_t nodes = tree_size_ >> (kTileHeight * level);
  const int width = static_cast<int>(
      std::min<uint64_t>(kTileWidth, nodes - index * kTileWidth));
  TileId id;
  id.level = level;
  id.index = index;
  id.width = width;
  absl::StatusOr<std::string> fetched = fetch_(id);
  if (!fetched.ok()) return fetched.status();
  if (fetched->size() != width * kHashBytes) {
    return absl::DataLossError(
        absl::StrCat("tile ", level, "/", index, " of width ", width, " has ",
                     fetched->size(), " bytes, not ", width * kHashBytes));
  }
  return &tiles_.emplace(std::make_pair(level, index), *std::move(fetched))
              .first->second;
}

}  // namespace trellis::tlog
