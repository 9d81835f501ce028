#include "attest/ima/measurement_list.h"

#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"

namespace trellis::attest::ima {
namespace {

constexpr size_t kLegacyNameBytes = 256;  // IMA_EVENT_NAME_LEN_MAX + 1.

void PutLe32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

uint32_t Le32(absl::string_view b, size_t at) {
  return static_cast<uint8_t>(b[at]) |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3])) << 24;
}

void AddField(std::string& out, absl::string_view data) {
  PutLe32(out, static_cast<uint32_t>(data.size()));
  out.append(data.data(), data.size());
}

// Fills entry.template_data from its fields.
void BuildTemplateData(Entry& e) {
  e.template_data.clear();
  if (e.template_name == "ima") {
    // Legacy: the 20-byte digest and the name padded to 256 bytes, no
    // length prefixes.
    e.template_data = e.file_digest;
    std::string name = e.path;
    name.resize(kLegacyNameBytes, '\0');
    e.template_data += name;
    return;
  }
  AddField(e.template_data, absl::StrCat(e.digest_algorithm, ":",
                                         std::string(1, '\0'), e.file_digest));
  AddField(e.template_data, e.path + std::string(1, '\0'));
  if (e.template_name == "ima-sig") AddField(e.template_data, e.signature);
}

// The template hash a violation is logged with, and what it extends.
bool AllZero(absl::string_view s) {
  return s.find_first_not_of('\0') == absl::string_view::npos;
}

// Extends PCR `pcr` of `bank` entry by entry, calling on_value(i, value)
// after entry i; stops early when it returns true.
template <typename OnValue>
absl::Status ForEachValue(const std::vector<Entry>& entries, TPM2_ALG_ID bank,
                          int pcr, size_t count, OnValue on_value) {
  const size_t size = tpm::DigestSize(bank);
  if (size == 0) return absl::InvalidArgumentError("unsupported PCR bank");
  std::string value(size, '\0');
  const std::string violation(size, '\xff');
  for (size_t i = 0; i < count && i < entries.size(); ++i) {
    const Entry& e = entries[i];
    if (e.pcr != pcr) continue;
    // The column hash is not trusted: the extend value is recomputed from
    // the fields (a zero column, a violation, extends 0xFF..).
    absl::StatusOr<std::string> extend =
        e.violation ? violation : tpm::TpmHash(bank, e.template_data);
    if (!extend.ok()) return extend.status();
    absl::StatusOr<std::string> next = tpm::TpmHash2(bank, value, *extend);
    if (!next.ok()) return next.status();
    value = std::move(*next);
    if (on_value(i, value)) break;
  }
  return absl::OkStatus();
}

absl::Status LineError(size_t line, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("IMA list line ", line, ": ", why));
}

bool SupportedTemplate(absl::string_view name) {
  return name == "ima-ng" || name == "ima-sig" || name == "ima";
}

}  // namespace

Entry MakeImaNgEntry(const std::string& path, const std::string& file_digest) {
  Entry e;
  e.template_name = "ima-ng";
  e.digest_algorithm = "sha256";
  e.file_digest = file_digest;
  e.path = path;
  BuildTemplateData(e);
  e.template_hash = *tpm::TpmHash(TPM2_ALG_SHA1, e.template_data);
  return e;
}

std::string FormatAscii(const Entry& e) {
  std::string line =
      absl::StrCat(e.pcr, " ", absl::BytesToHexString(e.template_hash), " ",
                   e.template_name, " ");
  if (e.template_name == "ima") {
    absl::StrAppend(&line, absl::BytesToHexString(e.file_digest));
  } else {
    absl::StrAppend(&line, e.digest_algorithm, ":",
                    absl::BytesToHexString(e.file_digest));
  }
  absl::StrAppend(&line, " ", e.path);
  if (e.template_name == "ima-sig") {
    absl::StrAppend(&line, " ", absl::BytesToHexString(e.signature));
  }
  return line;
}

absl::StatusOr<std::vector<Entry>> ParseAscii(absl::string_view text) {
  std::vector<Entry> entries;
  size_t number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    if (absl::StripAsciiWhitespace(line).empty()) continue;
    // "%2d " pads one-digit PCRs with a space; the path holds no spaces
    // (the kernel writes them as '_'), a trailing empty field leaves one.
    const std::vector<absl::string_view> f =
        absl::StrSplit(absl::StripLeadingAsciiWhitespace(line), ' ');
    if (f.size() < 5) return LineError(number, "too few fields");
    Entry e;
    if (!absl::SimpleAtoi(f[0], &e.pcr) || e.pcr < 0 || e.pcr > 23) {
      return LineError(number, "bad PCR");
    }
    if (f[1].size() != 40 ||
        f[1].find_first_not_of("0123456789abcdef") != absl::string_view::npos) {
      return LineError(number, "template hash is not 40 hex digits");
    }
    e.template_hash = absl::HexStringToBytes(f[1]);
    e.violation = AllZero(e.template_hash);
    e.template_name = std::string(f[2]);
    if (!SupportedTemplate(e.template_name)) {
      return LineError(number, absl::StrCat("unsupported template ", f[2]));
    }
    absl::string_view digest = f[3];
    if (e.template_name != "ima") {
      const size_t colon = digest.find(':');
      if (colon == absl::string_view::npos) {
        return LineError(number, "digest lacks its algorithm");
      }
      e.digest_algorithm = std::string(digest.substr(0, colon));
      digest = digest.substr(colon + 1);
    } else {
      e.digest_algorithm = "sha1";
    }
    if (digest.size() % 2 != 0 ||
        digest.find_first_not_of("0123456789abcdef") !=
            absl::string_view::npos) {
      return LineError(number, "file digest is not hex");
    }
    e.file_digest = absl::HexStringToBytes(digest);
    e.path = std::string(f[4]);
    const size_t expected = e.template_name == "ima-sig" ? 6 : 5;
    if (f.size() > expected || (e.template_name == "ima-sig" && f.size() < 5)) {
      return LineError(number, "too many fields");
    }
    if (e.template_name == "ima-sig" && f.size() == 6) {
      if (f[5].size() % 2 != 0 || f[5].find_first_not_of("0123456789abcdef") !=
                                      absl::string_view::npos) {
        return LineError(number, "signature is not hex");
      }
      e.signature = absl::HexStringToBytes(f[5]);
    }
    if (e.template_name == "ima" &&
        (e.file_digest.size() != 20 || e.path.size() >= kLegacyNameBytes)) {
      return LineError(number, "legacy ima entry of the wrong shape");
    }
    BuildTemplateData(e);
    entries.push_back(std::move(e));
  }
  return entries;
}

absl::StatusOr<std::vector<Entry>> ParseBinary(absl::string_view b) {
  std::vector<Entry> entries;
  size_t at = 0;
  auto need = [&](size_t n) { return b.size() - at >= n; };
  while (at < b.size()) {
    const size_t number = entries.size() + 1;
    if (!need(4 + 20 + 4)) return LineError(number, "truncated entry");
    Entry e;
    const uint32_t pcr = Le32(b, at);
    if (pcr > 23) return LineError(number, "bad PCR");
    e.pcr = static_cast<int>(pcr);
    e.template_hash = std::string(b.substr(at + 4, 20));
    e.violation = AllZero(e.template_hash);
    const uint32_t name_len = Le32(b, at + 24);
    at += 28;
    if (name_len > 255 || !need(name_len)) return LineError(number, "bad name");
    e.template_name = std::string(b.substr(at, name_len));
    at += name_len;
    if (!SupportedTemplate(e.template_name)) {
      return LineError(number, "unsupported template " + e.template_name);
    }
    if (e.template_name == "ima") {
      // d: 20 raw bytes; n: u32 strlen + characters (no length total).
      if (!need(20 + 4)) return LineError(number, "truncated entry");
      e.digest_algorithm = "sha1";
      e.file_digest = std::string(b.substr(at, 20));
      const uint32_t path_len = Le32(b, at + 20);
      at += 24;
      if (path_len >= kLegacyNameBytes || !need(path_len)) {
        return LineError(number, "bad legacy name");
      }
      e.path = std::string(b.substr(at, path_len));
      at += path_len;
    } else {
      if (!need(4)) return LineError(number, "truncated entry");
      const uint32_t data_len = Le32(b, at);
      at += 4;
      if (data_len > (1u << 20) || !need(data_len)) {
        return LineError(number, "bad template data length");
      }
      const absl::string_view data = b.substr(at, data_len);
      at += data_len;
      std::vector<absl::string_view> fields;
      for (size_t p = 0; p < data.size();) {
        if (data.size() - p < 4) return LineError(number, "truncated field");
        const uint32_t len = Le32(data, p);
        if (len > data.size() - p - 4) return LineError(number, "bad field");
        fields.push_back(data.substr(p + 4, len));
        p += 4 + len;
      }
      const size_t expected = e.template_name == "ima-sig" ? 3 : 2;
      if (fields.size() != expected) return LineError(number, "bad fields");
      const size_t sep = fields[0].find(':');
      if (sep == absl::string_view::npos || sep + 1 >= fields[0].size() ||
          fields[0][sep + 1] != '\0') {
        return LineError(number, "bad digest field");
      }
      e.digest_algorithm = std::string(fields[0].substr(0, sep));
      e.file_digest = std::string(fields[0].substr(sep + 2));
      if (fields[1].empty() || fields[1].back() != '\0') {
        return LineError(number, "bad name field");
      }
      e.path = std::string(fields[1].substr(0, fields[1].size() - 1));
      if (expected == 3) e.signature = std::string(fields[2]);
    }
    BuildTemplateData(e);
    entries.push_back(std::move(e));
  }
  return entries;
}

absl::StatusOr<std::string> Replay(const std::vector<Entry>& entries,
                                   TPM2_ALG_ID bank, int pcr, int count) {
  std::string last(tpm::DigestSize(bank), '\0');
  absl::Status s =
      ForEachValue(entries, bank, pcr, count < 0 ? entries.size() : count,
                   [&](size_t, const std::string& value) {
                     last = value;
                     return false;
                   });
  if (!s.ok()) return s;
  return last;
}

absl::StatusOr<size_t> MatchingPrefix(const std::vector<Entry>& entries,
                                      TPM2_ALG_ID bank,
                                      absl::string_view quoted, int pcr) {
  if (quoted == std::string(tpm::DigestSize(bank), '\0')) return 0;
  std::optional<size_t> match;
  absl::Status s = ForEachValue(entries, bank, pcr, entries.size(),
                                [&](size_t i, const std::string& value) {
                                  if (value == quoted) match = i + 1;
                                  return match.has_value();
                                });
  if (!s.ok()) return s;
  if (!match.has_value()) {
    return absl::NotFoundError(
        "no prefix of the IMA list replays to the quoted PCR");
  }
  return *match;
}

}  // namespace trellis::attest::ima
