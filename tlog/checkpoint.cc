#include "tlog/checkpoint.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tlog/text.h"

namespace trellis::tlog {
namespace {

constexpr size_t kHashBytes = 32;

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("checkpoint: ", why));
}

// A line of a checkpoint: non-empty, printable, no newline.
bool ValidLine(absl::string_view line) {
  if (line.empty()) return false;
  for (unsigned char c : line) {
    if (c < 0x20) return false;
  }
  return true;
}

}  // namespace

absl::StatusOr<std::string> FormatCheckpoint(const Checkpoint& checkpoint) {
  if (!ValidLine(checkpoint.origin)) return Invalid("the origin is empty");
  if (checkpoint.root_hash.size() != kHashBytes) {
    return Invalid("the root hash is not 32 bytes");
  }
  std::string text =
      absl::StrCat(checkpoint.origin, "\n", checkpoint.size, "\n",
                   absl::Base64Escape(checkpoint.root_hash), "\n");
  for (const std::string& extension : checkpoint.extensions) {
    if (!ValidLine(extension)) return Invalid("an extension line is empty");
    absl::StrAppend(&text, extension, "\n");
  }
  return text;
}

absl::StatusOr<Checkpoint> ParseCheckpoint(absl::string_view text) {
  if (text.empty() || text.back() != '\n') return Invalid("no final newline");
  text.remove_suffix(1);
  const std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() < 3) return Invalid("fewer than three lines");
  Checkpoint out;
  if (!ValidLine(lines[0])) return Invalid("the origin line is empty");
  out.origin = std::string(lines[0]);
  const absl::string_view size = lines[1];
  if (!ParseDecimal(size, &out.size)) {
    return Invalid("the size is not a decimal without leading zeros");
  }
  if (!ParseCanonicalBase64(lines[2], &out.root_hash) ||
      out.root_hash.size() != kHashBytes) {
    return Invalid("the root hash is not base64 of 32 bytes");
  }
  for (size_t i = 3; i < lines.size(); ++i) {
    if (!ValidLine(lines[i])) return Invalid("an extension line is empty");
    out.extensions.emplace_back(lines[i]);
  }
  return out;
}

}  // namespace trellis::tlog
