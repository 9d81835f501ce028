// Merkle node tiles of height 8, as in C2SP tlog-tiles: the tile at
// (tile_level L, tile_index N) holds the nodes at level 8L with indices
// [256N, 256N + 256) in row 0; the nodes of levels 8L+1 .. 8L+7 above them
// (rows 1..7) follow from row 0. Complete tiles never change; only
// right-edge tiles grow.
//
// Stored form: row 0's hashes (32 bytes each), so that the stored value is
// the C2SP tile itself; a complete tile then adds its 16 row-4 hashes, so
// that no node is more than 7 hash operations away (2 bytes per leaf).
// Expanded form, for caches (and as versions before stored tiles): a
// uint16 width, then every row (a size of 2 mod 32, which tells the forms
// apart), so that reading a node costs no hashing. Both forms are read.
#ifndef TRELLIS_STORAGE_ROCKSDB_TILE_H_
#define TRELLIS_STORAGE_ROCKSDB_TILE_H_

#include <array>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "merkle/node_id.h"

namespace trellis::storage::rocksdb {

inline constexpr uint32_t kTileHeight = 8;
inline constexpr uint32_t kTileWidth = 1u << kTileHeight;

struct TileAddress {
  uint32_t tile_level;
  uint64_t tile_index;
  uint32_t row;
  uint32_t pos;
};

// Where node `id` is stored.
TileAddress Locate(const merkle::NodeID& id);

// One node of an encoded tile, read or computed from the row below.
// NOT_FOUND if the tile does not determine that node yet; DATA_LOSS if it
// is malformed.
absl::StatusOr<std::string> ReadTileNode(absl::string_view encoded,
                                         uint32_t row, uint32_t pos);

// The first `width` hashes of row 0 (the C2SP tlog-tiles tile of that
// width). NOT_FOUND if the tile holds fewer; DATA_LOSS if it is malformed.
absl::StatusOr<absl::string_view> TileRowPrefix(absl::string_view encoded,
                                                uint32_t width);

// True if the encoded tile is full (256 nodes in row 0): it never changes
// again.
bool IsCompleteTile(absl::string_view encoded);

// The expanded form of an encoded tile.
absl::StatusOr<std::string> ExpandTile(absl::string_view encoded);

// A tile being extended by the sequencer.
class Tile {
 public:
  Tile() = default;
  static absl::StatusOr<Tile> Decode(absl::string_view encoded);

  // Adds the node at (row, pos). Nodes arrive left to right per row, so pos
  // must be the row's current length. INTERNAL otherwise.
  absl::Status Append(uint32_t row, uint32_t pos, absl::string_view hash);

  // The stored form. INTERNAL unless every row is complete for row 0's
  // width (true after appending whole sequencing batches).
  absl::StatusOr<std::string> Encode() const;
  // The expanded form; the same condition.
  absl::StatusOr<std::string> Expand() const;

 private:
  absl::Status CheckComplete() const;

  std::array<std::string, kTileHeight> rows_;
};

}  // namespace trellis::storage::rocksdb

#endif  // TRELLIS_STORAGE_ROCKSDB_TILE_H_
