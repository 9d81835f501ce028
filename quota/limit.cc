#include "quota/limit.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace trellis::quota {
namespace {

// Far beyond what one machine serves; keeps the arithmetic finite.
constexpr double kMaxTokens = 1e12;

bool ParseAmount(absl::string_view text, double* out) {
  return absl::SimpleAtod(text, out) && std::isfinite(*out) && *out >= 0 &&
         *out <= kMaxTokens;
}

std::string Format(double value) {
  return absl::StrCat(value);  // Shortest form that reads back exactly.
}

}  // namespace

bool AbslParseFlag(absl::string_view text, Limit* limit, std::string* error) {
  text = absl::StripAsciiWhitespace(text);
  if (text.empty()) {
    *limit = Limit{};
    return true;
  }
  const std::vector<absl::string_view> parts = absl::StrSplit(text, ':');
  Limit parsed;
  if (parts.size() > 2 || !ParseAmount(parts[0], &parsed.rate) ||
      (parts.size() == 2 && !ParseAmount(parts[1], &parsed.burst))) {
    *error = absl::StrCat("\"", text,
                          "\" is not RATE or RATE:BURST (tokens a second, "
                          "e.g. 1000:5000; empty or 0 for no limit)");
    return false;
  }
  if (parsed.rate == 0) {
    *limit = Limit{};
    return true;
  }
  if (parts.size() == 1) parsed.burst = std::max(1.0, parsed.rate);
  if (parsed.burst < 1) {
    *error = absl::StrCat("\"", text,
                          "\": the burst must be at least 1 token, or no call "
                          "could ever pass");
    return false;
  }
  *limit = parsed;
  return true;
}

std::string AbslUnparseFlag(const Limit& limit) {
  if (limit.unlimited()) return "";
  return absl::StrCat(Format(limit.rate), ":", Format(limit.burst));
}

bool AbslParseFlag(absl::string_view text, TreeLimits* limits,
                   std::string* error) {
  TreeLimits parsed;
  for (absl::string_view entry :
       absl::StrSplit(text, ',', absl::SkipWhitespace())) {
    std::pair<absl::string_view, absl::string_view> tree_and_limit =
        absl::StrSplit(entry, absl::MaxSplits('=', 1));
    int64_t tree_id = 0;
    Limit limit;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(tree_and_limit.first),
                          &tree_id) ||
        tree_id <= 0 || !absl::StrContains(entry, '=')) {
      *error = absl::StrCat("\"", entry,
                            "\" is not TREE_ID=RATE[:BURST] (e.g. "
                            "42=100:1000; 42=0 for no limit)");
      return false;
    }
    if (!AbslParseFlag(tree_and_limit.second, &limit, error)) {
      *error = absl::StrCat("tree ", tree_id, ": ", *error);
      return false;
    }
    if (!parsed.by_tree.emplace(tree_id, limit).second) {
      *error = absl::StrCat("tree ", tree_id, " is named twice");
      return false;
    }
  }
  *limits = std::move(parsed);
  return true;
}

std::string AbslUnparseFlag(const TreeLimits& limits) {
  std::vector<std::string> entries;
  for (const auto& [tree_id, limit] : limits.by_tree) {
    entries.push_back(absl::StrCat(
        tree_id, "=", limit.unlimited() ? "0" : AbslUnparseFlag(limit)));
  }
  return absl::StrJoin(entries, ",");
}

}  // namespace trellis::quota
