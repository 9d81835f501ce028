// The shape of a quota's token bucket and its text form in flags and
// configuration files: "RATE" or "RATE:BURST" tokens a second (a token is a
// leaf written or an answer read), and per-tree forms "ID=RATE[:BURST],...".
#ifndef TRELLIS_QUOTA_LIMIT_H_
#define TRELLIS_QUOTA_LIMIT_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/strings/string_view.h"

namespace trellis::quota {

struct Limit {
  double rate = 0;   // Tokens a second; 0 means no limit.
  double burst = 0;  // Most tokens saved up: the largest call that can pass.

  bool unlimited() const { return rate <= 0; }
};

// "" and "0" are no limit; without a burst, one second's worth (at least 1).
bool AbslParseFlag(absl::string_view text, Limit* limit, std::string* error);
std::string AbslUnparseFlag(const Limit& limit);

// Limits of single trees, replacing the per-tree default for them.
struct TreeLimits {
  std::map<int64_t, Limit> by_tree;
};

bool AbslParseFlag(absl::string_view text, TreeLimits* limits,
                   std::string* error);
std::string AbslUnparseFlag(const TreeLimits& limits);

}  // namespace trellis::quota

#endif  // TRELLIS_QUOTA_LIMIT_H_
