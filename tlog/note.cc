#include "tlog/note.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "crypto/digest.h"
#include "tlog/text.h"

namespace trellis::tlog {
namespace {

// U+2014 EM DASH and a space: how every signature line starts.
constexpr absl::string_view kSignaturePrefix = "\xe2\x80\x94 ";
constexpr size_t kEd25519Bytes = 32;
constexpr size_t kSignatureBytes = 64;

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("malformed note: ", why));
}

// The code point at text[*i], advancing *i; false for malformed UTF-8
// (overlong forms, surrogates, beyond U+10FFFF, truncated).
bool NextCodePoint(absl::string_view text, size_t* i, uint32_t* code_point) {
  const unsigned char c = text[*i];
  if (c < 0x80) {
    *code_point = c;
    ++*i;
    return true;
  }
  int length = 0;
  unsigned char low = 0x80, high = 0xbf;  // The second byte's range.
  if (c >= 0xc2 && c <= 0xdf) {
    length = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    length = 3;
    if (c == 0xe0) low = 0xa0;
    if (c == 0xed) high = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    length = 4;
    if (c == 0xf0) low = 0x90;
    if (c == 0xf4) high = 0x8f;
  } else {
    return false;
  }
  if (*i + length > text.size()) return false;
  uint32_t value = c & (0xff >> (length + 1));
  for (int k = 1; k < length; ++k) {
    const unsigned char next = text[*i + k];
    if (k == 1 ? (next < low || next > high) : (next & 0xc0) != 0x80) {
      return false;
    }
    value = (value << 6) | (next & 0x3f);
  }
  *code_point = value;
  *i += length;
  return true;
}

// Go's unicode.IsSpace, which note key names must not contain.
bool IsUnicodeSpace(uint32_t c) {
  return (c >= '\t' && c <= '\r') || c == ' ' || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
         c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

// Key names: non-empty UTF-8 without spaces, control characters or '+'.
bool ValidKeyName(absl::string_view name) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size();) {
    uint32_t c = 0;
    if (!NextCodePoint(name, &i, &c) || c < 0x20 || c == '+' ||
        IsUnicodeSpace(c)) {
      return false;
    }
  }
  return true;
}

// Well-formed UTF-8 without control characters (below U+0020) other than
// '\n', as the signed-note specification and x/mod ask.
bool ValidText(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    uint32_t c = 0;
    if (!NextCodePoint(text, &i, &c) || (c < 0x20 && c != '\n')) return false;
  }
  return true;
}

std::string BigEndian32(uint32_t value) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>(value >> (24 - 8 * i));
  return out;
}

uint64_t ReadBigEndian64(absl::string_view bytes) {
  uint64_t value = 0;
  for (int i = 0; i < 8; ++i) {
    value = (value << 8) | static_cast<unsigned char>(bytes[i]);
  }
  return value;
}

std::string CosignedMessage(absl::string_view text, uint64_t timestamp) {
  return absl::StrCat("cosignature/v1\ntime ", timestamp, "\n", text);
}

bool VerifyEd25519(absl::string_view public_key, absl::string_view message,
                   absl::string_view signature) {
  if (public_key.size() != kEd25519Bytes ||
      signature.size() != kSignatureBytes) {
    return false;
  }
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(public_key.data()),
      public_key.size());
  if (key == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr &&
      EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
      EVP_DigestVerify(ctx,
                       reinterpret_cast<const unsigned char*>(signature.data()),
                       signature.size(),
                       reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

}  // namespace

uint32_t NoteKeyId(absl::string_view name, uint8_t type,
                   absl::string_view public_key) {
  const std::string digest = crypto::Digest(
      crypto::DigestAlgorithm::kSha256,
      {name, "\n", std::string(1, static_cast<char>(type)), public_key});
  uint32_t id = 0;
  for (int i = 0; i < 4; ++i) id = (id << 8) | static_cast<uint8_t>(digest[i]);
  return id;
}

std::string FormatVerifierKey(const NoteVerifierKey& key) {
  return absl::StrCat(
      key.name, "+", absl::BytesToHexString(BigEndian32(key.id)), "+",
      absl::Base64Escape(absl::StrCat(
          std::string(1, static_cast<char>(key.type)), key.public_key)));
}

absl::StatusOr<NoteVerifierKey> ParseVerifierKey(absl::string_view vkey) {
  // The name has no '+'; base64 may. One text per key: lower-case hex,
  // canonical base64.
  const size_t plus = vkey.find('+');
  const absl::string_view name = vkey.substr(0, plus);
  const absl::string_view id_hex =
      plus == absl::string_view::npos ? "" : vkey.substr(plus + 1, 8);
  std::string key_bytes;
  uint32_t id = 0;
  if (plus == absl::string_view::npos || !ValidKeyName(name) ||
      id_hex.size() != 8 || vkey.size() < plus + 10 || vkey[plus + 9] != '+' ||
      id_hex.find_first_not_of("0123456789abcdef") != absl::string_view::npos ||
      !absl::SimpleHexAtoi(id_hex, &id) ||
      !ParseCanonicalBase64(vkey.substr(plus + 10), &key_bytes) ||
      key_bytes.size() != 1 + kEd25519Bytes) {
    return absl::InvalidArgumentError(
        "a verifier key is <name>+<8 hex digits>+<base64 type and key>");
  }
  NoteVerifierKey key;
  key.name = std::string(name);
  key.type = static_cast<uint8_t>(key_bytes[0]);
  key.public_key = key_bytes.substr(1);
  key.id = id;
  if (key.type != kEd25519KeyType && key.type != kCosignatureV1KeyType) {
    return absl::InvalidArgumentError(
        absl::StrCat("unsupported note key type ", key.type));
  }
  if (NoteKeyId(key.name, key.type, key.public_key) != id) {
    return absl::InvalidArgumentError("the verifier key's id does not match");
  }
  return key;
}

absl::StatusOr<Note> ParseNote(absl::string_view note) {
  if (note.size() > kMaxNoteBytes) return Invalid("too large");
  if (note.empty() || note.back() != '\n') return Invalid("no final newline");
  const size_t split = note.rfind("\n\n");
  if (split == absl::string_view::npos) return Invalid("no signatures");
  Note out;
  out.text = std::string(note.substr(0, split + 1));
  if (!ValidText(out.text)) return Invalid("text with control characters");
  absl::string_view lines = note.substr(split + 2);
  if (lines.empty()) return Invalid("no signatures");
  lines.remove_suffix(1);  // The final newline.
  for (absl::string_view line : absl::StrSplit(lines, '\n')) {
    if (out.signatures.size() == kMaxNoteSignatures) {
      return Invalid("too many signatures");
    }
    if (!absl::ConsumePrefix(&line, kSignaturePrefix)) {
      return Invalid("a signature line does not start with an em dash");
    }
    const size_t space = line.rfind(' ');
    if (space == absl::string_view::npos) return Invalid("signature line");
    NoteSignature signature;
    signature.name = std::string(line.substr(0, space));
    std::string bytes;
    const absl::string_view encoded = line.substr(space + 1);
    // Canonical base64 only: one text per signature, as Go parses it.
    if (!ValidKeyName(signature.name) ||
        !ParseCanonicalBase64(encoded, &bytes) || bytes.size() < 5) {
      return Invalid("signature line");
    }
    for (int i = 0; i < 4; ++i) {
      signature.id = (signature.id << 8) | static_cast<uint8_t>(bytes[i]);
    }
    signature.signature = bytes.substr(4);
    out.signatures.push_back(std::move(signature));
  }
  if (out.signatures.empty()) return Invalid("no signatures");
  return out;
}

std::string FormatNote(absl::string_view text,
                       const std::vector<std::string>& signature_lines) {
  std::string out = absl::StrCat(text, "\n");
  for (const std::string& line : signature_lines) absl::StrAppend(&out, line);
  return out;
}

absl::StatusOr<NoteSigner> NoteSigner::Create(std::string name,
                                              std::shared_ptr<EVP_PKEY> key,
                                              uint8_t type) {
  if (!ValidKeyName(name)) {
    return absl::InvalidArgumentError(
        "a note key name is non-empty, without spaces or '+'");
  }
  if (key == nullptr || EVP_PKEY_get_id(key.get()) != EVP_PKEY_ED25519) {
    return absl::InvalidArgumentError("note keys are Ed25519");
  }
  if (type != kEd25519KeyType && type != kCosignatureV1KeyType) {
    return absl::InvalidArgumentError("note key type 0x01 or 0x04");
  }
  unsigned char public_key[kEd25519Bytes];
  size_t length = sizeof(public_key);
  if (EVP_PKEY_get_raw_public_key(key.get(), public_key, &length) != 1 ||
      length != kEd25519Bytes) {
    return absl::InternalError("cannot read the Ed25519 public key");
  }
  NoteVerifierKey verifier;
  verifier.name = std::move(name);
  verifier.type = type;
  verifier.public_key.assign(reinterpret_cast<char*>(public_key), length);
  verifier.id = NoteKeyId(verifier.name, type, verifier.public_key);
  return NoteSigner(std::move(verifier), std::move(key));
}

absl::StatusOr<std::string> NoteSigner::Line(absl::string_view message,
                                             absl::string_view prefix) const {
  unsigned char signature[kSignatureBytes];
  size_t length = sizeof(signature);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok =
      ctx != nullptr &&
      EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_.get()) == 1 &&
      EVP_DigestSign(ctx, signature, &length,
                     reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || length != kSignatureBytes) {
    return absl::InternalError("Ed25519 signing failed");
  }
  return absl::StrCat(
      kSignaturePrefix, verifier_key_.name, " ",
      absl::Base64Escape(absl::StrCat(
          BigEndian32(verifier_key_.id), prefix,
          absl::string_view(reinterpret_cast<char*>(signature), length))),
      "\n");
}

absl::StatusOr<std::string> NoteSigner::SignatureLine(
    absl::string_view text) const {
  if (verifier_key_.type != kEd25519KeyType) {
    return absl::FailedPreconditionError("a cosigning key signs cosignatures");
  }
  if (text.empty() || text.back() != '\n' || !ValidText(text)) {
    return absl::InvalidArgumentError(
        "note text is UTF-8 ending in a newline, without controls");
  }
  return Line(text, "");
}

absl::StatusOr<std::string> NoteSigner::CosignatureLine(
    absl::string_view checkpoint_text, uint64_t timestamp) const {
  if (verifier_key_.type != kCosignatureV1KeyType) {
    return absl::FailedPreconditionError("a log key signs notes");
  }
  if (timestamp > static_cast<uint64_t>(INT64_MAX)) {
    return absl::InvalidArgumentError("timestamp out of range");
  }
  if (checkpoint_text.empty() || checkpoint_text.back() != '\n' ||
      !ValidText(checkpoint_text)) {
    return absl::InvalidArgumentError(
        "note text is UTF-8 ending in a newline, without controls");
  }
  std::string stamp(8, '\0');
  for (int i = 0; i < 8; ++i) {
    stamp[i] = static_cast<char>(timestamp >> (56 - 8 * i));
  }
  return Line(CosignedMessage(checkpoint_text, timestamp), stamp);
}

absl::StatusOr<std::vector<VerifiedSignature>> VerifyNote(
    const Note& note, const std::vector<NoteVerifierKey>& keys) {
  std::vector<VerifiedSignature> verified;
  // Each key counts once, however often it signed (or is listed): a
  // quorum must not be met by one witness repeating itself.
  std::set<std::pair<std::string, uint32_t>> seen;
  for (const NoteSignature& signature : note.signatures) {
    if (seen.count({signature.name, signature.id}) > 0) continue;
    const auto key =
        std::find_if(keys.begin(), keys.end(), [&](const NoteVerifierKey& k) {
          return k.name == signature.name && k.id == signature.id;
        });
    if (key == keys.end()) continue;
    seen.insert({signature.name, signature.id});
    VerifiedSignature good{*key, 0};
    bool ok = false;
    if (key->type == kEd25519KeyType) {
      ok = VerifyEd25519(key->public_key, note.text, signature.signature);
    } else if (key->type == kCosignatureV1KeyType &&
               signature.signature.size() == 8 + kSignatureBytes) {
      good.timestamp = ReadBigEndian64(signature.signature);
      ok = good.timestamp <= static_cast<uint64_t>(INT64_MAX) &&
           VerifyEd25519(key->public_key,
                         CosignedMessage(note.text, good.timestamp),
                         signature.signature.substr(8));
    }
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the note's signature by ", key->name, " does not verify"));
    }
    verified.push_back(std::move(good));
  }
  if (verified.empty()) {
    return absl::NotFoundError("the note has no signature by a known key");
  }
  return verified;
}

}  // namespace trellis::tlog
