#include "tlog/proof.h"

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tlog/text.h"

namespace trellis::tlog {
namespace {

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("tlog-proof: ", why));
}

}  // namespace

absl::StatusOr<std::string> FormatTlogProof(const TlogProof& proof) {
  std::string text = absl::StrCat(kTlogProofHeader, "\n");
  if (proof.extra.has_value()) {
    absl::StrAppend(&text, "extra ", absl::Base64Escape(*proof.extra), "\n");
  }
  absl::StrAppend(&text, "index ", proof.index, "\n");
  if (absl::Status s =
          AppendHashLines(proof.hashes, kMaxInclusionProofHashes, &text);
      !s.ok()) {
    return Invalid(s.message());
  }
  absl::StrAppend(&text, "\n", proof.checkpoint_note);
  return text;
}

absl::StatusOr<TlogProof> ParseTlogProof(absl::string_view text) {
  TlogProof proof;
  absl::string_view line;
  if (!NextLine(&text, &line) || line != kTlogProofHeader) {
    return Invalid(absl::StrCat("the first line is not ", kTlogProofHeader));
  }
  if (!NextLine(&text, &line)) return Invalid("no index line");
  if (absl::ConsumePrefix(&line, "extra ")) {
    std::string extra;
    if (!ParseCanonicalBase64(line, &extra)) {
      return Invalid("extra is not base64");
    }
    proof.extra = std::move(extra);
    if (!NextLine(&text, &line)) return Invalid("no index line");
  }
  if (!absl::ConsumePrefix(&line, "index ") ||
      !ParseDecimal(line, &proof.index)) {
    return Invalid("the index line is not \"index <decimal>\"");
  }
  if (absl::Status s = ParseHashLines(&text, kMaxInclusionProofHashes,
                                      "tlog-proof", &proof.hashes);
      !s.ok()) {
    return s;
  }
  if (text.empty()) return Invalid("no checkpoint");
  proof.checkpoint_note = std::string(text);
  return proof;
}

}  // namespace trellis::tlog
