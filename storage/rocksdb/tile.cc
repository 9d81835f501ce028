#include "storage/rocksdb/tile.h"

#include "absl/strings/str_cat.h"
#include "merkle/hasher.h"
#include "util/tls_codec.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr size_t kHeader = 2;

// Bytes of rows 0..row-1 for a tile of the given width.
size_t RowOffset(uint32_t width, uint32_t row) {
  size_t hashes = 0;
  for (uint32_t r = 0; r < row; ++r) hashes += width >> r;
  return kHeader + hashes * merkle::kHashSize;
}

absl::StatusOr<uint32_t> CheckedWidth(absl::string_view encoded) {
  TlsReader reader(encoded);
  const uint64_t width = reader.ReadUint(2);
  if (!reader.ok() || width == 0 || width > kTileWidth ||
      encoded.size() != RowOffset(width, kTileHeight)) {
    return absl::DataLossError("malformed Merkle tile");
  }
  return static_cast<uint32_t>(width);
}

}  // namespace

TileAddress Locate(const merkle::NodeID& id) {
  const uint32_t row = id.level % kTileHeight;
  const uint32_t shift = kTileHeight - row;
  return TileAddress{id.level / kTileHeight, id.index >> shift, row,
                     static_cast<uint32_t>(id.index & ((1u << shift) - 1))};
}

absl::StatusOr<absl::string_view> ReadTileNode(absl::string_view encoded,
                                               uint32_t row, uint32_t pos) {
  absl::StatusOr<uint32_t> width = CheckedWidth(encoded);
  if (!width.ok()) return width.status();
  if (pos >= (*width >> row)) return absl::NotFoundError("node not in tile");
  return encoded.substr(RowOffset(*width, row) + pos * merkle::kHashSize,
                        merkle::kHashSize);
}

absl::StatusOr<absl::string_view> TileRowPrefix(absl::string_view encoded,
                                                uint32_t width) {
  absl::StatusOr<uint32_t> stored = CheckedWidth(encoded);
  if (!stored.ok()) return stored.status();
  if (width == 0 || width > *stored) {
    return absl::NotFoundError("tile is not that wide");
  }
  return encoded.substr(RowOffset(*stored, 0), width * merkle::kHashSize);
}

bool IsCompleteTile(absl::string_view encoded) {
  absl::StatusOr<uint32_t> width = CheckedWidth(encoded);
  return width.ok() && *width == kTileWidth;
}

absl::StatusOr<Tile> Tile::Decode(absl::string_view encoded) {
  absl::StatusOr<uint32_t> width = CheckedWidth(encoded);
  if (!width.ok()) return width.status();
  Tile tile;
  for (uint32_t r = 0; r < kTileHeight; ++r) {
    const size_t begin = RowOffset(*width, r);
    tile.rows_[r] =
        std::string(encoded.substr(begin, (*width >> r) * merkle::kHashSize));
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

absl::StatusOr<std::string> Tile::Encode() const {
  const uint32_t width = rows_[0].size() / merkle::kHashSize;
  std::string out;
  out.reserve(RowOffset(width, kTileHeight));
  PutUint(out, width, 2);
  for (uint32_t r = 0; r < kTileHeight; ++r) {
    if (rows_[r].size() != (width >> r) * merkle::kHashSize) {
      return absl::InternalError("Merkle tile has an incomplete row");
    }
    out += rows_[r];
  }
  return out;
}

}  // namespace trellis::storage::rocksdb
