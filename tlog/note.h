// C2SP signed notes (https://c2sp.org/signed-note), the envelope of
// tlog-tiles checkpoints: UTF-8 text, a blank line, then signature lines
// "— <key name> <base64(key id || signature)>". Ed25519 note keys (type
// 0x01) as golang.org/x/mod/sumdb/note names them, and witness
// cosignatures (https://c2sp.org/tlog-cosignature, cosignature/v1, type
// 0x04: Ed25519 over "cosignature/v1\ntime <t>\n" + the checkpoint text).
#ifndef TRELLIS_TLOG_NOTE_H_
#define TRELLIS_TLOG_NOTE_H_

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::tlog {

inline constexpr uint8_t kEd25519KeyType = 0x01;
inline constexpr uint8_t kCosignatureV1KeyType = 0x04;
// A note holds at most this many signatures (x/mod's limit) and bytes.
inline constexpr size_t kMaxNoteSignatures = 100;
inline constexpr size_t kMaxNoteBytes = 1 << 20;

// What a verifier pins for a signer ("vkey").
struct NoteVerifierKey {
  std::string name;
  uint8_t type = kEd25519KeyType;
  uint32_t id = 0;
  std::string public_key;  // 32 bytes.
};

// The first four bytes, big-endian, of SHA-256(name || '\n' || type ||
// public key).
uint32_t NoteKeyId(absl::string_view name, uint8_t type,
                   absl::string_view public_key);

// "<name>+<8 hex digits of id>+<base64(type || public key)>".
std::string FormatVerifierKey(const NoteVerifierKey& key);
// INVALID_ARGUMENT unless `vkey` is that form, of type 0x01 or 0x04, with a
// name that is valid and an id that matches.
absl::StatusOr<NoteVerifierKey> ParseVerifierKey(absl::string_view vkey);

// One signature line, parsed.
struct NoteSignature {
  std::string name;
  uint32_t id = 0;
  std::string signature;  // What follows the key id.
};

struct Note {
  std::string text;  // Ends with '\n'.
  std::vector<NoteSignature> signatures;
};

// Splits a signed note at its last blank line. INVALID_ARGUMENT if the
// text or a signature line is malformed, or beyond the limits above.
absl::StatusOr<Note> ParseNote(absl::string_view note);

// `text` followed by a blank line and `signature_lines` (each ending '\n').
std::string FormatNote(absl::string_view text,
                       const std::vector<std::string>& signature_lines);

// An Ed25519 private key under a note key name.
class NoteSigner {
 public:
  // `key` must be an Ed25519 private key; `type` is kEd25519KeyType for a
  // log's key or kCosignatureV1KeyType for a witness's.
  static absl::StatusOr<NoteSigner> Create(std::string name,
                                           std::shared_ptr<EVP_PKEY> key,
                                           uint8_t type = kEd25519KeyType);

  const NoteVerifierKey& verifier_key() const { return verifier_key_; }

  // The signature line over `text` (type 0x01 keys).
  absl::StatusOr<std::string> SignatureLine(absl::string_view text) const;
  // The cosignature/v1 line over `checkpoint_text` at `timestamp` (Unix
  // seconds; type 0x04 keys).
  absl::StatusOr<std::string> CosignatureLine(absl::string_view checkpoint_text,
                                              uint64_t timestamp) const;

 private:
  NoteSigner(NoteVerifierKey verifier_key, std::shared_ptr<EVP_PKEY> key)
      : verifier_key_(std::move(verifier_key)), key_(std::move(key)) {}
  absl::StatusOr<std::string> Line(absl::string_view message,
                                   absl::string_view prefix) const;

  NoteVerifierKey verifier_key_;
  std::shared_ptr<EVP_PKEY> key_;
};

// A signature of `note` that verified.
struct VerifiedSignature {
  NoteVerifierKey key;
  uint64_t timestamp = 0;  // cosignature/v1 only.
};

// The signatures of `note` by `keys` (matched by name and id; others are
// ignored, as the spec asks), each key once however often it signed.
// INVALID_ARGUMENT if a signature by one of `keys` does not verify;
// NOT_FOUND if none of `keys` signed.
absl::StatusOr<std::vector<VerifiedSignature>> VerifyNote(
    const Note& note, const std::vector<NoteVerifierKey>& keys);

}  // namespace trellis::tlog

#endif  // TRELLIS_TLOG_NOTE_H_
