#include "storage/rocksdb/tile.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "merkle/hasher.h"
#include "util/tls_codec.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr uint32_t kTrailerRow = 4;
constexpr size_t kTrailerBytes =
    (kTileWidth >> kTrailerRow) * merkle::kHashSize;
constexpr size_t kFullTileBytes = kTileWidth * merkle::kHashSize;

// Row 0 of a tile and, when stored, a higher row (row 4 of a complete
// tile; every row of the expanded form), as views into the encoded tile.
struct TileView {
  uint32_t width = 0;
  absl::string_view row0;
  absl::string_view rows[kTileHeight];  // Empty where not stored.
};

// Bytes of rows 0..row-1 in the expanded form, for a tile of the given width.
size_t ExpandedRowOffset(uint32_t width, uint32_t row) {
  size_t hashes = 0;
  for (uint32_t r = 0; r < row; ++r) hashes += width >> r;
  return 2 + hashes * merkle::kHashSize;
}

absl::StatusOr<TileView> Parse(absl::string_view encoded) {
  TileView view;
  if (encoded.size() % merkle::kHashSize == 2) {
    TlsReader reader(encoded);
    const uint64_t width = reader.ReadUint(2);
    if (!reader.ok() || width == 0 || width > kTileWidth ||
        encoded.size() != ExpandedRowOffset(width, kTileHeight)) {
      return absl::DataLossError("malformed Merkle tile");
    }
    view.width = static_cast<uint32_t>(width);
    for (uint32_t r = 0; r < kTileHeight; ++r) {
      view.rows[r] = encoded.substr(ExpandedRowOffset(view.width, r),
                                    (view.width >> r) * merkle::kHashSize);
    }
    view.row0 = view.rows[0];
    return view;
  }
  if (encoded.size() == kFullTileBytes + kTrailerBytes) {
    view.width = kTileWidth;
    view.row0 = encoded.substr(0, kFullTileBytes);
    view.rows[kTrailerRow] = encoded.substr(kFullTileBytes);
    return view;
  }
  if (encoded.empty() || encoded.size() % merkle::kHashSize != 0 ||
      encoded.size() >= kFullTileBytes) {
    return absl::DataLossError("malformed Merkle tile");
  }
  view.width = encoded.size() / merkle::kHashSize;
  view.row0 = encoded;
  return view;
}

// The root of the perfect subtree over `count` (a power of two) hashes of
// `row` from `first` on.
std::string SubtreeRoot(absl::string_view row, size_t first, size_t count) {
  std::vector<std::string> level;
  level.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    level.emplace_back(
        row.substr((first + i) * merkle::kHashSize, merkle::kHashSize));
  }
  for (; count > 1; count /= 2) {
    for (size_t i = 0; i < count / 2; ++i) {
      level[i] = merkle::HashChildren(level[2 * i], level[2 * i + 1]);
    }
  }
  return std::move(level[0]);
}

}  // namespace

TileAddress Locate(const merkle::NodeID& id) {
  const uint32_t row = id.level % kTileHeight;
  const uint32_t shift = kTileHeight - row;
  return TileAddress{id.level / kTileHeight, id.index >> shift, row,
                     static_cast<uint32_t>(id.index & ((1u << shift) - 1))};
}

absl::StatusOr<std::string> ReadTileNode(absl::string_view encoded,
                                         uint32_t row, uint32_t pos) {
  absl::StatusOr<TileView> view = Parse(encoded);
  if (!view.ok()) return view.status();
  if (row >= kTileHeight || pos >= (view->width >> row)) {
    return absl::NotFoundError("node not in tile");
  }
  // From the nearest stored row at or below.
  uint32_t base = row;
  while (base > 0 && view->rows[base].empty()) --base;
  const absl::string_view stored = base == 0 ? view->row0 : view->rows[base];
  const uint32_t span = row - base;
  return SubtreeRoot(stored, size_t{pos} << span, size_t{1} << span);
}

absl::StatusOr<absl::string_view> TileRowPrefix(absl::string_view encoded,
                                                uint32_t width) {
  absl::StatusOr<TileView> view = Parse(encoded);
  if (!view.ok()) return view.status();
  if (width == 0 || width > view->width) {
    return absl::NotFoundError("tile is not that wide");
  }
  return view->row0.substr(0, width * merkle::kHashSize);
}

bool IsCompleteTile(absl::string_view encoded) {
  absl::StatusOr<TileView> view = Parse(encoded);
  return view.ok() && view->width == kTileWidth;
}

absl::StatusOr<std::string> ExpandTile(absl::string_view encoded) {
  absl::StatusOr<Tile> tile = Tile::Decode(encoded);
  if (!tile.ok()) return tile.status();
  return tile->Expand();
}

absl::StatusOr<Tile> Tile::Decode(absl::string_view encoded) {
  absl::StatusOr<TileView> view = Parse(encoded);
  if (!view.ok()) return view.status();
  Tile tile;
  tile.rows_[0] = std::string(view->row0);
  for (uint32_t r = 1; r < kTileHeight; ++r) {
    if (!view->rows[r].empty()) {
      tile.rows_[r] = std::string(view->rows[r]);
      continue;
    }
    const std::string& below = tile.rows_[r - 1];
    const size_t pairs = (view->width >> r);
    tile.rows_[r].reserve(pairs * merkle::kHashSize);
    for (size_t p = 0; p < pairs; ++p) {
      tile.rows_[r] += merkle::HashChildren(
          absl::string_view(below).substr(2 * p * merkle::kHashSize,
                                          merkle::kHashSize),
          absl::string_view(below).substr((2 * p + 1) * merkle::kHashSize,
                                          merkle::kHashSize));
    }
  }
  return tile;
}

absl::Status Tile::Append(uint32_t row, uint32_t pos, absl::string_view hash) {
  if (row >= kTileHeight || hash.size() != merkle::kHashSize ||
      rows_[row].size() != static_cast<size_t>(pos) * merkle::kHashSize ||
      pos >= (kTileWidth >> row)) {
    return absl::InternalError(absl::StrCat(
        "out-of-order Merkle node at tile row ", row, " position ", pos));
  }
  rows_[row].append(hash.data(), hash.size());
  return absl::OkStatus();
}

absl::Status Tile::CheckComplete() const {
  const size_t width = rows_[0].size() / merkle::kHashSize;
  for (uint32_t r = 0; r < kTileHeight; ++r) {
    if (rows_[r].size() != (width >> r) * merkle::kHashSize) {
      return absl::InternalError("Merkle tile has an incomplete row");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> Tile::Encode() const {
  if (absl::Status s = CheckComplete(); !s.ok()) return s;
  if (rows_[0].size() < kFullTileBytes) return rows_[0];
  return rows_[0] + rows_[kTrailerRow];
}

absl::StatusOr<std::string> Tile::Expand() const {
  if (absl::Status s = CheckComplete(); !s.ok()) return s;
  std::string out;
  PutUint(out, rows_[0].size() / merkle::kHashSize, 2);
  for (const std::string& row : rows_) out += row;
  return out;
}

}  // namespace trellis::storage::rocksdb
