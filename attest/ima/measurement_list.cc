#include "attest/ima/measurement_list.h"

#include <cstring>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "attest/tpm/keys.h"
#include "attest/tpm/structures.h"
#include "crypto/sha256_shani.h"

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

absl::Status LineError(size_t line, absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("IMA list line ", line, ": ", why));
}

bool SupportedTemplate(absl::string_view name) {
  return name == "ima-ng" || name == "ima-sig" || name == "ima";
}

// Appends the bytes the kernel hashes for an entry's PCR extend.
void AppendTemplateData(absl::string_view name, absl::string_view algorithm,
                        absl::string_view digest, absl::string_view path,
                        absl::string_view signature, std::string& out) {
  if (name == "ima") {
    // Legacy: the 20-byte digest and the name padded to 256 bytes, no
    // length prefixes.
    out.append(digest.data(), digest.size());
    out.append(path.data(), path.size());
    out.append(kLegacyNameBytes - path.size(), '\0');
    return;
  }
  PutLe32(out, static_cast<uint32_t>(algorithm.size() + 2 + digest.size()));
  out.append(algorithm.data(), algorithm.size());
  out.push_back(':');
  out.push_back('\0');
  out.append(digest.data(), digest.size());
  PutLe32(out, static_cast<uint32_t>(path.size() + 1));
  out.append(path.data(), path.size());
  out.push_back('\0');
  if (name == "ima-sig") AddField(out, signature);
}

void BuildTemplateData(Entry& e) {
  e.template_data.clear();
  AppendTemplateData(e.template_name, e.digest_algorithm, e.file_digest, e.path,
                     e.signature, e.template_data);
}

// Value of each byte as a lowercase hex digit, or -1 (IMA lists write
// lowercase hex): validation and decoding without per-character searches.
const int8_t* HexValues() {
  static const auto* const kTable = [] {
    auto* table = new int8_t[256];
    for (int c = 0; c < 256; ++c) table[c] = -1;
    for (int c = '0'; c <= '9'; ++c) table[c] = static_cast<int8_t>(c - '0');
    for (int c = 'a'; c <= 'f'; ++c) {
      table[c] = static_cast<int8_t>(c - 'a' + 10);
    }
    return table;
  }();
  return kTable;
}

bool IsLowerHex(absl::string_view s) {
  const int8_t* values = HexValues();
  if (s.size() % 2 != 0) return false;
  for (char c : s) {
    if (values[static_cast<uint8_t>(c)] < 0) return false;
  }
  return true;
}

// Hex (already checked) into `out`, which must be big enough.
size_t DecodeHex(absl::string_view hex, char* out) {
  const int8_t* values = HexValues();
  for (size_t i = 0; i < hex.size() / 2; ++i) {
    out[i] = static_cast<char>(values[static_cast<uint8_t>(hex[2 * i])] << 4 |
                               values[static_cast<uint8_t>(hex[2 * i + 1])]);
  }
  return hex.size() / 2;
}

// One ASCII line as views into the text.
struct LineView {
  int pcr = 0;
  bool violation = false;
  absl::string_view template_hash;  // Hex.
  absl::string_view template_name;
  absl::string_view digest_algorithm;
  absl::string_view digest;  // Hex.
  absl::string_view path;
  absl::string_view signature;  // Hex; ima-sig only.
};

// Splits and checks one non-empty line. "%2d " pads one-digit PCRs with a
// space; paths hold no spaces (the kernel writes them as '_'); an empty
// last field leaves a trailing space.
absl::Status ParseLine(absl::string_view line, size_t number, LineView& v) {
  if (line.size() > kMaxLineBytes) return LineError(number, "line too long");
  line = absl::StripLeadingAsciiWhitespace(line);
  absl::string_view f[7];
  size_t count = 0;
  while (count < 7) {
    const size_t space = line.find(' ');
    f[count++] = line.substr(0, space);
    if (space == absl::string_view::npos) break;
    line.remove_prefix(space + 1);
  }
  if (count < 5) return LineError(number, "too few fields");
  // One or two decimal digits, below tpm::kPcrCount.
  if (f[0].empty() || f[0].size() > 2 || !absl::ascii_isdigit(f[0][0]) ||
      (f[0].size() == 2 && !absl::ascii_isdigit(f[0][1]))) {
    return LineError(number, "bad PCR");
  }
  v.pcr =
      f[0].size() == 1 ? f[0][0] - '0' : (f[0][0] - '0') * 10 + (f[0][1] - '0');
  if (v.pcr >= tpm::kPcrCount) return LineError(number, "bad PCR");
  if (f[1].size() != 40 || !IsLowerHex(f[1])) {
    return LineError(number, "template hash is not 40 hex digits");
  }
  v.template_hash = f[1];
  v.violation = f[1].find_first_not_of('0') == absl::string_view::npos;
  v.template_name = f[2];
  if (!SupportedTemplate(v.template_name)) {
    return LineError(number, absl::StrCat("unsupported template ", f[2]));
  }
  v.digest = f[3];
  if (v.template_name != "ima") {
    const size_t colon = v.digest.find(':');
    if (colon == absl::string_view::npos) {
      return LineError(number, "digest lacks its algorithm");
    }
    v.digest_algorithm = v.digest.substr(0, colon);
    v.digest.remove_prefix(colon + 1);
  } else {
    v.digest_algorithm = "sha1";
  }
  if (!IsLowerHex(v.digest) || v.digest.size() > 128) {
    return LineError(number, "file digest is not hex");
  }
  v.path = f[4];
  if (v.path.size() > kMaxPathBytes) return LineError(number, "path too long");
  const bool sig = v.template_name == "ima-sig";
  // An empty trailing field (ima-sig without a signature) leaves "".
  const size_t fields = count > 5 && f[count - 1].empty() ? count - 1 : count;
  if (fields > (sig ? 6u : 5u)) return LineError(number, "too many fields");
  if (sig && fields == 6) {
    if (!IsLowerHex(f[5])) return LineError(number, "signature is not hex");
    v.signature = f[5];
  }
  if (v.template_name == "ima" &&
      (v.digest.size() != 40 || v.path.size() >= kLegacyNameBytes)) {
    return LineError(number, "legacy ima entry of the wrong shape");
  }
  return absl::OkStatus();
}

// The template hash a violation is logged with, and what it extends.
bool AllZero(absl::string_view s) {
  return s.find_first_not_of('\0') == absl::string_view::npos;
}

// value = H(value || H(input)), or H(value || input) when the input is
// already the extend value; SHA-256 on the SHA extensions without
// allocations.
absl::Status Extend(TPM2_ALG_ID bank, absl::string_view input, bool hash_input,
                    std::string& value) {
  if (bank == TPM2_ALG_SHA256 && crypto::CpuHasShaExtensions()) {
    uint8_t extend[TPM2_SHA256_DIGEST_SIZE];
    if (hash_input) {
      crypto::Sha256ShaNi({input}, extend);
      input =
          absl::string_view(reinterpret_cast<char*>(extend), sizeof(extend));
    }
    uint8_t next[TPM2_SHA256_DIGEST_SIZE];
    crypto::Sha256ShaNi({value, input}, next);
    std::memcpy(value.data(), next, sizeof(next));
    return absl::OkStatus();
  }
  std::string hashed;
  if (hash_input) {
    absl::StatusOr<std::string> h = tpm::TpmHash(bank, input);
    if (!h.ok()) return h.status();
    hashed = std::move(*h);
    input = hashed;
  }
  absl::StatusOr<std::string> next = tpm::TpmHash2(bank, value, input);
  if (!next.ok()) return next.status();
  value = std::move(*next);
  return absl::OkStatus();
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
    if (absl::Status s = Extend(bank, e.violation ? violation : e.template_data,
                                /*hash_input=*/!e.violation, value);
        !s.ok()) {
      return s;
    }
    if (on_value(i, value)) break;
  }
  return absl::OkStatus();
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
    LineView v;
    if (absl::Status s = ParseLine(line, number, v); !s.ok()) return s;
    Entry e;
    e.pcr = v.pcr;
    e.violation = v.violation;
    e.template_hash = absl::HexStringToBytes(v.template_hash);
    e.template_name = std::string(v.template_name);
    e.digest_algorithm = std::string(v.digest_algorithm);
    e.file_digest = absl::HexStringToBytes(v.digest);
    e.path = std::string(v.path);
    e.signature = absl::HexStringToBytes(v.signature);
    BuildTemplateData(e);
    entries.push_back(std::move(e));
  }
  return entries;
}

absl::StatusOr<ListAppraisal> AppraiseAscii(absl::string_view text,
                                            TPM2_ALG_ID bank,
                                            absl::string_view quoted,
                                            const Judge& judge, int pcr) {
  const size_t size = tpm::DigestSize(bank);
  if (size == 0) return absl::InvalidArgumentError("unsupported PCR bank");
  ListAppraisal result;
  std::string value(size, '\0');
  if (value == quoted) result.matched_entries = 0;
  const std::string violation(size, '\xff');
  std::string data;  // Reused: no allocation per entry.
  std::string signature;
  char digest[64];
  size_t number = 0, entries = 0;
  for (size_t start = 0; start < text.size() && !result.matched_entries;) {
    size_t end = text.find('\n', start);
    if (end == absl::string_view::npos) end = text.size();
    const absl::string_view line = text.substr(start, end - start);
    start = end + 1;
    ++number;
    if (line.empty() || absl::StripAsciiWhitespace(line).empty()) continue;
    LineView v;
    if (absl::Status s = ParseLine(line, number, v); !s.ok()) return s;
    ++entries;
    if (const char* why = judge(v.path, v.digest, v.violation)) {
      result.failures.push_back({std::string(v.path), why});
    }
    if (v.pcr != pcr) continue;
    if (!v.violation) {
      data.clear();
      signature.resize(v.signature.size() / 2);
      DecodeHex(v.signature, signature.data());
      AppendTemplateData(v.template_name, v.digest_algorithm,
                         absl::string_view(digest, DecodeHex(v.digest, digest)),
                         v.path, signature, data);
    }
    if (absl::Status s = Extend(bank, v.violation ? violation : data,
                                /*hash_input=*/!v.violation, value);
        !s.ok()) {
      return s;
    }
    if (value == quoted) result.matched_entries = entries;
  }
  return result;
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
    if (pcr >= tpm::kPcrCount) return LineError(number, "bad PCR");
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
      if (data_len > kMaxLineBytes || !need(data_len)) {
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
      if (e.path.size() > kMaxPathBytes) {
        return LineError(number, "path too long");
      }
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
