// The Linux IMA measurement list, in its ASCII and binary forms
// (/sys/kernel/security/ima/{ascii,binary}_runtime_measurements), and its
// replay into PCR 10. Templates ima-ng, ima-sig and the legacy ima are
// understood. Each entry's template data is rebuilt exactly as the kernel
// hashes it, so the replay of a bank is H(PCR || H_bank(template data)) per
// entry (0xFF.. for a violation), as the TPM saw it.
#ifndef TRELLIS_ATTEST_IMA_MEASUREMENT_LIST_H_
#define TRELLIS_ATTEST_IMA_MEASUREMENT_LIST_H_

#include <tss2/tss2_tpm2_types.h>

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::attest::ima {

// Limits on untrusted lists: Linux paths are at most PATH_MAX (4096) bytes;
// a line (or binary template data) holds a path, a digest and at most an
// RSA-4096 signature in hex, far below kMaxLineBytes.
inline constexpr size_t kMaxPathBytes = 4096;
inline constexpr size_t kMaxLineBytes = 16 << 10;

struct Entry {
  int pcr = 10;
  std::string template_name;     // "ima-ng", "ima-sig", "ima".
  std::string template_hash;     // SHA-1 of the template data (20 bytes).
  bool violation = false;        // Logged with an all-zero template hash.
  std::string digest_algorithm;  // "sha256" ("sha1" for legacy ima).
  std::string file_digest;       // Raw bytes.
  std::string path;
  std::string signature;  // ima-sig only; may be empty.
  // The bytes the kernel hashes for the PCR extend.
  std::string template_data;
};

// INVALID_ARGUMENT, naming the line, for anything malformed. The template
// hash column is kept but not trusted: replays recompute from the fields.
absl::StatusOr<std::vector<Entry>> ParseAscii(absl::string_view text);
absl::StatusOr<std::vector<Entry>> ParseBinary(absl::string_view bytes);

// The ASCII line of an entry (for tests and tools that write lists).
std::string FormatAscii(const Entry& entry);
// An ima-ng entry for `path` with `file_digest` (sha256).
Entry MakeImaNgEntry(const std::string& path, const std::string& file_digest);

// Judges one measured file: null if acceptable, else why not.
using Judge = std::function<const char*(
    absl::string_view path, absl::string_view digest_hex, bool violation)>;

struct ListAppraisal {
  // Entries up to and including the one after which PCR `pcr` equals the
  // quoted value (unset: no prefix replays to it).
  std::optional<size_t> matched_entries;
  // Entries of that prefix (of the whole list, if none matched) that the
  // judge refused: {path, reason}.
  std::vector<std::pair<std::string, std::string>> failures;
};

// The appraisal of an ASCII list in one pass, without building entries:
// what a verifier runs for every attestation.
absl::StatusOr<ListAppraisal> AppraiseAscii(absl::string_view text,
                                            TPM2_ALG_ID bank,
                                            absl::string_view quoted,
                                            const Judge& judge, int pcr = 10);

// The value PCR `pcr` of `bank` holds after extending the entries of the
// list for that PCR, first `count` entries only (all if count < 0).
absl::StatusOr<std::string> Replay(const std::vector<Entry>& entries,
                                   TPM2_ALG_ID bank, int pcr = 10,
                                   int count = -1);

// The length of the shortest prefix of `entries` that replays to
// `quoted` (the list may have grown after the quote), or NOT_FOUND.
absl::StatusOr<size_t> MatchingPrefix(const std::vector<Entry>& entries,
                                      TPM2_ALG_ID bank,
                                      absl::string_view quoted, int pcr = 10);

}  // namespace trellis::attest::ima

#endif  // TRELLIS_ATTEST_IMA_MEASUREMENT_LIST_H_
