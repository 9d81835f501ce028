#include "attest/keylime/quote.h"

#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace trellis::attest::keylime {

absl::StatusOr<Quote> ParseQuote(absl::string_view text) {
  if (text.empty() || text[0] != 'r') {
    return absl::InvalidArgumentError(
        "quote must start with \"r\" (the only Keylime quote type)");
  }
  const std::vector<absl::string_view> parts =
      absl::StrSplit(text.substr(1), ':');
  if (parts.size() != 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        "quote has ", parts.size(), " ':'-separated parts, expected 3"));
  }
  Quote quote;
  std::string* outputs[] = {&quote.attest, &quote.signature, &quote.pcr_blob};
  const char* names[] = {"attestation", "signature", "PCR"};
  for (int i = 0; i < 3; ++i) {
    if (parts[i].empty() || !absl::Base64Unescape(parts[i], outputs[i]) ||
        outputs[i]->empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("quote's ", names[i], " part is not base64"));
    }
  }
  return quote;
}

std::string FormatQuote(const Quote& quote) {
  return absl::StrCat("r", absl::Base64Escape(quote.attest), ":",
                      absl::Base64Escape(quote.signature), ":",
                      absl::Base64Escape(quote.pcr_blob));
}

}  // namespace trellis::attest::keylime
