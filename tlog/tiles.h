// C2SP tlog-tiles resources (https://c2sp.org/tlog-tiles): the paths of
// hash tiles and entry bundles under a log's prefix, the width of the
// partial tile at each level for a tree size, and the entry bundle
// encoding (each entry a big-endian uint16 length, then its bytes).
#ifndef TRELLIS_TLOG_TILES_H_
#define TRELLIS_TLOG_TILES_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::tlog {

inline constexpr int kTileHeight = 8;
inline constexpr int kTileWidth = 256;  // Hashes in a full tile.
inline constexpr int kMaxTileLevel = 63;
inline constexpr size_t kMaxEntryBytes = 65535;

// A hash tile (level >= 0) or an entry bundle (entries), full (width 256)
// or partial.
struct TileId {
  bool entries = false;
  int level = 0;
  uint64_t index = 0;
  int width = kTileWidth;  // 1..256.
  bool operator==(const TileId& o) const {
    return entries == o.entries && level == o.level && index == o.index &&
           width == o.width;
  }
};

// "tile/<L>/<N>[.p/<W>]" or "tile/entries/<N>[.p/<W>]", N in 3-digit
// groups, all but the last prefixed with 'x' (1234067: x001/x234/067).
// INVALID_ARGUMENT for a width outside 1..256 (there is no empty tile) or
// a level outside 0..63.
absl::StatusOr<std::string> TilePath(const TileId& tile);

// The tile a path names; INVALID_ARGUMENT for any other path, including
// non-canonical forms (leading zeros, an empty group, .p/256).
absl::StatusOr<TileId> ParseTilePath(absl::string_view path);

// The width of the rightmost, partial tile of `level` for `tree_size`
// entries (0: that level has no partial tile). For entry bundles, level 0.
int PartialWidth(int level, uint64_t tree_size);

// Appends `entry` to an entry bundle; INVALID_ARGUMENT beyond 65,535 bytes.
absl::Status AppendBundleEntry(absl::string_view entry, std::string* bundle);

// The entries of a bundle; INVALID_ARGUMENT if it is truncated or holds
// more than 256 entries.
absl::StatusOr<std::vector<std::string>> ParseBundle(absl::string_view bundle);

}  // namespace trellis::tlog

#endif  // TRELLIS_TLOG_TILES_H_
