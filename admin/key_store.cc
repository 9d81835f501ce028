#include "admin/key_store.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "crypto/keys.h"
#include "trellis_settings.pb.h"
#include "util/file.h"

namespace trellis::admin {
namespace {

constexpr char kPlain = 0x00;
// AES-256-GCM with the fixed AAD kLegacyAad: written before keys were bound
// to their ids, still read.
constexpr char kAesGcmLegacy = 0x01;
// AES-256-GCM with AAD kAad || key id.
constexpr char kAesGcm = 0x02;
constexpr size_t kKekSize = 32;
constexpr size_t kNonceSize = 12;
constexpr size_t kTagSize = 16;
// Binds ciphertexts to their purpose (and, after it, their key id).
constexpr absl::string_view kLegacyAad = "trellis tree private key v1";
constexpr absl::string_view kAad = "trellis private key v2:";

struct CipherCtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, CipherCtxDeleter>;

const unsigned char* U(absl::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

KeyStore::KeyStore(storage::TreeStorage* trees, std::string kek)
    : trees_(trees), kek_(std::move(kek)) {}

absl::StatusOr<std::string> KeyStore::ReadKekFile(const std::string& path) {
  absl::StatusOr<std::string> read = ReadFile(path);
  if (!read.ok()) return read.status();
  const std::string& content = *read;
  if (content.size() == kKekSize) return content;
  std::string hex =
      absl::StrReplaceAll(content, {{"\n", ""}, {" ", ""}, {"\r", ""}});
  if (hex.size() == 2 * kKekSize &&
      hex.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos) {
    return absl::HexStringToBytes(hex);
  }
  return absl::InvalidArgumentError(
      "KEK file must hold 32 raw bytes or 64 hex digits");
}

std::string KeyStore::TreeKeyId(int64_t tree_id) {
  return absl::StrCat("tree/", tree_id);
}

std::string KeyStore::NoteKeyId(int64_t tree_id) {
  return absl::StrCat("note/", tree_id);
}

absl::StatusOr<KeyStore::NewEd25519Key> KeyStore::GenerateEd25519(
    absl::string_view key_id) const {
  keyspb::Specification spec;
  spec.mutable_ed25519_params();
  absl::StatusOr<crypto::PrivateKey> key = crypto::GenerateKey(spec);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> der = crypto::MarshalPrivateKey(**key);
  if (!der.ok()) return der.status();
  absl::StatusOr<std::string> wrapped = Wrap(key_id, *der);
  OPENSSL_cleanse(der->data(), der->size());
  if (!wrapped.ok()) return wrapped.status();
  return NewEd25519Key{std::shared_ptr<EVP_PKEY>(key->release(), EVP_PKEY_free),
                       std::move(*wrapped)};
}

absl::StatusOr<std::shared_ptr<EVP_PKEY>> KeyStore::UnwrapPrivateKey(
    absl::string_view key_id, absl::string_view wrapped) const {
  absl::StatusOr<std::string> der = Unwrap(key_id, wrapped);
  if (!der.ok()) return der.status();
  absl::StatusOr<crypto::PrivateKey> key = crypto::ParsePrivateKey(*der);
  OPENSSL_cleanse(der->data(), der->size());
  if (!key.ok()) return absl::DataLossError(key.status().message());
  return std::shared_ptr<EVP_PKEY>(key->release(), EVP_PKEY_free);
}

absl::StatusOr<KeyStore::NewNoteKey> KeyStore::GenerateNoteKey(
    int64_t tree_id, const std::string& origin) const {
  absl::StatusOr<NewEd25519Key> key = GenerateEd25519(NoteKeyId(tree_id));
  if (!key.ok()) return key.status();
  absl::StatusOr<tlog::NoteSigner> signer =
      tlog::NoteSigner::Create(origin, std::move(key->key));
  if (!signer.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("origin \"", origin, "\": ", signer.status().message()));
  }
  return NewNoteKey{std::move(key->wrapped),
                    tlog::FormatVerifierKey(signer->verifier_key())};
}

absl::StatusOr<std::string> KeyStore::Wrap(
    absl::string_view key_id, absl::string_view private_key_der) const {
  if (kek_.empty())
    return absl::StrCat(std::string(1, kPlain), private_key_der);
  if (kek_.size() != kKekSize) {
    return absl::FailedPreconditionError(
        "the key-encryption key must be 32 bytes");
  }
  const std::string aad = absl::StrCat(kAad, key_id);
  std::string out(1, kAesGcm);
  std::string nonce(kNonceSize, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(nonce.data()), kNonceSize) !=
      1) {
    return absl::InternalError("no randomness for key wrapping");
  }
  out += nonce;
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  std::string cipher(private_key_der.size(), '\0');
  int len = 0;
  int aad_len = 0;
  std::string tag(kTagSize, '\0');
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(kek_),
                         U(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &aad_len, U(aad), aad.size()) !=
          1 ||
      EVP_EncryptUpdate(ctx.get(),
                        reinterpret_cast<unsigned char*>(cipher.data()), &len,
                        U(private_key_der), private_key_der.size()) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), nullptr, &aad_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagSize,
                          tag.data()) != 1) {
    return absl::InternalError("key wrapping failed: " +
                               crypto::OpenSslError());
  }
  return out + cipher + tag;
}

absl::StatusOr<std::string> KeyStore::Unwrap(absl::string_view key_id,
                                             absl::string_view wrapped) const {
  if (wrapped.empty()) return absl::DataLossError("empty wrapped key");
  if (wrapped[0] == kPlain) return std::string(wrapped.substr(1));
  if ((wrapped[0] != kAesGcm && wrapped[0] != kAesGcmLegacy) ||
      wrapped.size() < 1 + kNonceSize + kTagSize) {
    return absl::DataLossError("unknown wrapped key format");
  }
  if (kek_.size() != kKekSize) {
    return absl::FailedPreconditionError(
        "tree key is encrypted but no 32-byte key-encryption key is "
        "configured");
  }
  const absl::string_view nonce = wrapped.substr(1, kNonceSize);
  const absl::string_view body = wrapped.substr(
      1 + kNonceSize, wrapped.size() - 1 - kNonceSize - kTagSize);
  std::string tag(wrapped.substr(wrapped.size() - kTagSize));
  const std::string aad = wrapped[0] == kAesGcm ? absl::StrCat(kAad, key_id)
                                                : std::string(kLegacyAad);
  std::string plain(body.size(), '\0');
  CipherCtx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  int final_len = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, U(kek_),
                         U(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), nullptr, &len, U(aad), aad.size()) != 1 ||
      EVP_DecryptUpdate(ctx.get(),
                        reinterpret_cast<unsigned char*>(plain.data()), &len,
                        U(body), body.size()) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagSize,
                          tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), nullptr, &final_len) != 1) {
    crypto::OpenSslError();
    OPENSSL_cleanse(plain.data(), plain.size());
    return absl::FailedPreconditionError(
        "private key does not decrypt with the configured key-encryption key "
        "for this id");
  }
  return plain;
}

absl::StatusOr<std::shared_ptr<const crypto::Signer>> KeyStore::SignerFor(
    int64_t tree_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = signers_.find(tree_id);
    if (it != signers_.end()) return it->second;
  }
  absl::StatusOr<std::string> wrapped = trees_->GetWrappedPrivateKey(tree_id);
  if (!wrapped.ok()) return wrapped.status();
  absl::StatusOr<std::string> der = Unwrap(TreeKeyId(tree_id), *wrapped);
  if (!der.ok()) return der.status();
  absl::StatusOr<crypto::PrivateKey> key = crypto::ParsePrivateKey(*der);
  OPENSSL_cleanse(der->data(), der->size());
  if (!key.ok()) return absl::DataLossError(key.status().message());
  auto signer = std::make_shared<const crypto::Signer>(std::move(*key));
  absl::MutexLock lock(&mu_);
  return signers_.emplace(tree_id, std::move(signer)).first->second;
}

absl::StatusOr<std::shared_ptr<const tlog::NoteSigner>> KeyStore::NoteSignerFor(
    int64_t tree_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = note_signers_.find(tree_id);
    if (it != note_signers_.end()) return it->second;
  }
  absl::StatusOr<trillian::Tree> tree = trees_->GetTree(tree_id);
  if (!tree.ok()) return tree.status();
  trellis::LogSettings settings;
  if (!tree->storage_settings().UnpackTo(&settings) ||
      settings.origin().empty()) {
    return absl::NotFoundError(
        absl::StrCat("tree ", tree_id, " has no checkpoint origin"));
  }
  absl::StatusOr<std::string> wrapped = trees_->GetWrappedNoteKey(tree_id);
  if (!wrapped.ok()) return wrapped.status();
  absl::StatusOr<std::shared_ptr<EVP_PKEY>> key =
      UnwrapPrivateKey(NoteKeyId(tree_id), *wrapped);
  if (!key.ok()) return key.status();
  absl::StatusOr<tlog::NoteSigner> signer =
      tlog::NoteSigner::Create(settings.origin(), std::move(*key));
  if (!signer.ok()) return absl::DataLossError(signer.status().message());
  auto cached = std::make_shared<const tlog::NoteSigner>(std::move(*signer));
  absl::MutexLock lock(&mu_);
  return note_signers_.emplace(tree_id, std::move(cached)).first->second;
}

}  // namespace trellis::admin
