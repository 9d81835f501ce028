#include "log/tile_reader.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "trellis_settings.pb.h"

namespace trellis::log {

uint32_t TileEntriesAt(int level, uint64_t index, uint64_t tree_size) {
  const int shift = tlog::kTileHeight * level;
  if (level < 0 || shift >= 64) return 0;
  // Nodes at level 8L: one per complete 256^L leaves.
  const uint64_t nodes = tree_size >> shift;
  const uint64_t first = index << tlog::kTileHeight;
  if ((first >> tlog::kTileHeight) != index || nodes <= first) return 0;
  return static_cast<uint32_t>(
      std::min<uint64_t>(tlog::kTileWidth, nodes - first));
}

absl::StatusOr<trillian::Tree> TileReader::ServedLog(int64_t tree_id) {
  absl::StatusOr<trillian::Tree> tree = trees_->GetTree(tree_id);
  if (!tree.ok()) return tree.status();
  if (tree->deleted() || (tree->tree_type() != trillian::LOG &&
                          tree->tree_type() != trillian::PREORDERED_LOG)) {
    return absl::NotFoundError(absl::StrCat("no log ", tree_id));
  }
  return tree;
}

absl::StatusOr<std::shared_ptr<const storage::StoredCheckpoint>>
TileReader::Checkpoint(int64_t tree_id) {
  if (absl::StatusOr<trillian::Tree> tree = ServedLog(tree_id); !tree.ok()) {
    return tree.status();
  }
  return checkpoints_->Latest(tree_id);
}

absl::StatusOr<std::shared_ptr<const std::string>> TileReader::Tile(
    int64_t tree_id, const tlog::TileId& id) {
  absl::StatusOr<trillian::Tree> tree = ServedLog(tree_id);
  if (!tree.ok()) return tree.status();
  if (id.entries) {
    trellis::LogSettings settings;
    if (!tree->storage_settings().UnpackTo(&settings) ||
        !settings.entry_bundles()) {
      return absl::NotFoundError(absl::StrCat(
          "log ", tree_id,
          " does not serve entry bundles (created with entry_bundles off)"));
    }
  }
  absl::StatusOr<std::shared_ptr<const storage::StoredCheckpoint>> checkpoint =
      checkpoints_->Latest(tree_id);
  if (!checkpoint.ok()) return checkpoint.status();
  const uint32_t available =
      TileEntriesAt(id.entries ? 0 : id.level, id.index, (*checkpoint)->size);
  if (id.width < 1 || static_cast<uint32_t>(id.width) > available) {
    return absl::NotFoundError(
        absl::StrCat("the latest checkpoint (", (*checkpoint)->size,
                     " leaves) does not cover this tile"));
  }
  // A tile of a given width never changes, partial or full.
  const std::string cache_key =
      absl::StrCat(tree_id, id.entries ? "/e/" : "/", id.level, "/", id.index,
                   "/", id.width);
  if (std::shared_ptr<const std::string> cached = tiles_.Get(cache_key)) {
    return cached;
  }
  absl::StatusOr<std::string> read =
      id.entries ? logs_->ReadEntryBundle(tree_id, id.index, id.width)
                 : logs_->ReadTile(tree_id, id.level, id.index, id.width);
  // The checkpoint covers it, so it must be stored.
  if (absl::IsNotFound(read.status())) {
    return absl::DataLossError(absl::StrCat(
        "log ", tree_id, ": a tile the checkpoint covers is missing"));
  }
  if (!read.ok()) return read.status();
  auto tile = std::make_shared<const std::string>(std::move(*read));
  tiles_.Put(cache_key, tile, tile->size(), /*replace=*/false);
  return tile;
}

}  // namespace trellis::log
