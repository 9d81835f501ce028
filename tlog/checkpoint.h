// C2SP checkpoints (https://c2sp.org/tlog-checkpoint): the signed note
// text a tlog-tiles log publishes for each tree size: its origin line, the
// size in decimal, the base64 RFC 6962 root hash, then optional extension
// lines.
#ifndef TRELLIS_TLOG_CHECKPOINT_H_
#define TRELLIS_TLOG_CHECKPOINT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::tlog {

struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  std::string root_hash;  // 32 bytes.
  std::vector<std::string> extensions;
};

// The note text, ending in '\n'. INVALID_ARGUMENT for an empty origin, a
// root that is not 32 bytes, or an empty extension line; a line with a
// control character (a newline included) is refused too.
absl::StatusOr<std::string> FormatCheckpoint(const Checkpoint& checkpoint);

// INVALID_ARGUMENT unless `text` is a checkpoint: an origin, a decimal size
// without leading zeros, a base64 32-byte root, extension lines.
absl::StatusOr<Checkpoint> ParseCheckpoint(absl::string_view text);

}  // namespace trellis::tlog

#endif  // TRELLIS_TLOG_CHECKPOINT_H_
