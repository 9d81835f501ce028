#include "tlog/tiles.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace trellis::tlog {
namespace {

absl::Status NotATile(absl::string_view path) {
  return absl::InvalidArgumentError(
      absl::StrCat("not a tile or entry bundle path: ", path));
}

// A decimal in [min, max] without leading zeros.
bool ParseCanonical(absl::string_view text, int min, int max, int* out) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0') ||
      text.find_first_not_of("0123456789") != absl::string_view::npos) {
    return false;
  }
  return absl::SimpleAtoi(text, out) && *out >= min && *out <= max;
}

// N from its groups: "x001", "x234", "067".
bool ParseIndex(const std::vector<absl::string_view>& groups, uint64_t* out) {
  if (groups.empty() || groups.size() > 7) return false;  // 2^64 < 10^21.
  uint64_t value = 0;
  for (size_t i = 0; i < groups.size(); ++i) {
    absl::string_view group = groups[i];
    const bool last = i + 1 == groups.size();
    if (!last && !absl::ConsumePrefix(&group, "x")) return false;
    int digits = 0;
    if (group.size() != 3 ||
        group.find_first_not_of("0123456789") != absl::string_view::npos ||
        !absl::SimpleAtoi(group, &digits)) {
      return false;
    }
    // Canonical: no leading all-zero group.
    if (i == 0 && !last && digits == 0) return false;
    if (value > (UINT64_MAX - digits) / 1000) return false;
    value = value * 1000 + digits;
  }
  *out = value;
  return true;
}

}  // namespace

absl::StatusOr<std::string> TilePath(const TileId& tile) {
  if (tile.width < 1 || tile.width > kTileWidth || tile.level < 0 ||
      tile.level > kMaxTileLevel || (tile.entries && tile.level != 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "no tile at level ", tile.level, " of width ", tile.width));
  }
  uint64_t n = tile.index;
  std::string index = absl::StrFormat("%03d", static_cast<int>(n % 1000));
  for (n /= 1000; n > 0; n /= 1000) {
    index = absl::StrCat(absl::StrFormat("x%03d/", static_cast<int>(n % 1000)),
                         index);
  }
  std::string path = absl::StrCat(
      "tile/", tile.entries ? std::string("entries") : absl::StrCat(tile.level),
      "/", index);
  if (tile.width < kTileWidth) absl::StrAppend(&path, ".p/", tile.width);
  return path;
}

absl::StatusOr<TileId> ParseTilePath(absl::string_view path) {
  absl::string_view rest = path;
  if (!absl::ConsumePrefix(&rest, "tile/")) return NotATile(path);
  TileId tile;
  const size_t slash = rest.find('/');
  if (slash == absl::string_view::npos) return NotATile(path);
  const absl::string_view kind = rest.substr(0, slash);
  rest.remove_prefix(slash + 1);
  if (kind == "entries") {
    tile.entries = true;
  } else if (!ParseCanonical(kind, 0, kMaxTileLevel, &tile.level)) {
    return NotATile(path);
  }
  const size_t partial = rest.find(".p/");
  if (partial != absl::string_view::npos) {
    if (!ParseCanonical(rest.substr(partial + 3), 1, kTileWidth - 1,
                        &tile.width)) {
      return NotATile(path);
    }
    rest = rest.substr(0, partial);
  }
  if (!ParseIndex(absl::StrSplit(rest, '/'), &tile.index)) {
    return NotATile(path);
  }
  return tile;
}

int PartialWidth(int level, uint64_t tree_size) {
  if (level < 0 || level > kMaxTileLevel) return 0;
  uint64_t size = tree_size;
  for (int i = 0; i < level && size > 0; ++i) size /= kTileWidth;
  return static_cast<int>(size % kTileWidth);
}

absl::Status AppendBundleEntry(absl::string_view entry, std::string* bundle) {
  if (entry.size() > kMaxEntryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("an entry of ", entry.size(),
                     " bytes does not fit an entry bundle (65,535 at most)"));
  }
  bundle->push_back(static_cast<char>(entry.size() >> 8));
  bundle->push_back(static_cast<char>(entry.size() & 0xff));
  bundle->append(entry.data(), entry.size());
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> ParseBundle(absl::string_view bundle) {
  std::vector<std::string> entries;
  while (!bundle.empty()) {
    if (entries.size() == kTileWidth || bundle.size() < 2) {
      return absl::InvalidArgumentError("a malformed entry bundle");
    }
    const size_t size = (static_cast<unsigned char>(bundle[0]) << 8) |
                        static_cast<unsigned char>(bundle[1]);
    bundle.remove_prefix(2);
    if (size > bundle.size()) {
      return absl::InvalidArgumentError("a truncated entry bundle");
    }
    entries.emplace_back(bundle.substr(0, size));
    bundle.remove_prefix(size);
  }
  return entries;
}

}  // namespace trellis::tlog
