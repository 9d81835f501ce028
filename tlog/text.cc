#include "tlog/text.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace trellis::tlog {

bool NextLine(absl::string_view* rest, absl::string_view* line) {
  const size_t end = rest->find('\n');
  if (end == absl::string_view::npos) return false;
  *line = rest->substr(0, end);
  rest->remove_prefix(end + 1);
  return true;
}

bool ParseDecimal(absl::string_view text, uint64_t* value) {
  return !text.empty() && (text.size() == 1 || text[0] != '0') &&
         text.find_first_not_of("0123456789") == absl::string_view::npos &&
         absl::SimpleAtoi(text, value);
}

bool ParseCanonicalBase64(absl::string_view text, std::string* out) {
  return absl::Base64Unescape(text, out) && absl::Base64Escape(*out) == text;
}

absl::Status ParseHashLines(absl::string_view* rest, size_t max,
                            absl::string_view what,
                            std::vector<std::string>* hashes) {
  absl::string_view line;
  while (true) {
    if (!NextLine(rest, &line)) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": no empty line"));
    }
    if (line.empty()) return absl::OkStatus();
    if (hashes->size() == max) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": more than ", max, " proof hashes"));
    }
    std::string hash;
    if (!ParseCanonicalBase64(line, &hash) || hash.size() != 32) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": a proof line is not base64 of 32 bytes"));
    }
    hashes->push_back(std::move(hash));
  }
}

absl::Status AppendHashLines(const std::vector<std::string>& hashes, size_t max,
                             std::string* out) {
  if (hashes.size() > max) {
    return absl::InvalidArgumentError(
        absl::StrCat("more than ", max, " proof hashes"));
  }
  for (const std::string& hash : hashes) {
    if (hash.size() != 32) {
      return absl::InvalidArgumentError("a hash is not 32 bytes");
    }
    absl::StrAppend(out, absl::Base64Escape(hash), "\n");
  }
  return absl::OkStatus();
}

}  // namespace trellis::tlog
