// Tree private keys at rest and in use. Keys are stored wrapped: encrypted
// with AES-256-GCM under a key-encryption key (KEK) when one is configured,
// otherwise as plain PKCS#8 protected only by the data directory's 0700
// permissions. Keys stored plain before a KEK was configured stay readable.
// Signers are cached per tree.
#ifndef TRELLIS_ADMIN_KEY_STORE_H_
#define TRELLIS_ADMIN_KEY_STORE_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "crypto/signer.h"
#include "storage/tree_storage.h"
#include "tlog/note.h"

namespace trellis::admin {

class KeyStore {
 public:
  // `kek` is 32 bytes, or empty for no encryption.
  KeyStore(storage::TreeStorage* trees, std::string kek);

  // Reads a KEK file: 32 raw bytes or 64 hex digits (whitespace ignored).
  static absl::StatusOr<std::string> ReadKekFile(const std::string& path);

  // The id under which a tree's key is wrapped.
  static std::string TreeKeyId(int64_t tree_id);
  // The id under which a log's checkpoint note key is wrapped.
  static std::string NoteKeyId(int64_t tree_id);

  // A new Ed25519 key, and its at-rest form wrapped for `key_id`.
  struct NewEd25519Key {
    std::shared_ptr<EVP_PKEY> key;
    std::string wrapped;
  };
  absl::StatusOr<NewEd25519Key> GenerateEd25519(absl::string_view key_id) const;
  // The private key `wrapped` holds (Unwrap for `key_id`, then parsed);
  // DATA_LOSS if it does not parse.
  absl::StatusOr<std::shared_ptr<EVP_PKEY>> UnwrapPrivateKey(
      absl::string_view key_id, absl::string_view wrapped) const;

  // A new Ed25519 checkpoint note key for log `tree_id`: wrapped for it, and
  // its verifier key under the name `origin`. INVALID_ARGUMENT if `origin`
  // cannot name a note key.
  struct NewNoteKey {
    std::string wrapped;
    std::string verifier_key;
  };
  absl::StatusOr<NewNoteKey> GenerateNoteKey(int64_t tree_id,
                                             const std::string& origin) const;

  // The at-rest form of a PKCS#8 private key. `key_id` names whose key it is
  // (TreeKeyId, later CA keys) and is bound into the ciphertext, so a key
  // copied to another record does not unwrap there. FAILED_PRECONDITION if
  // the KEK is neither empty nor 32 bytes.
  absl::StatusOr<std::string> Wrap(absl::string_view key_id,
                                   absl::string_view private_key_der) const;
  // Inverse of Wrap for the same `key_id`. FAILED_PRECONDITION if the key is
  // encrypted and no (or another) KEK is configured, or it was wrapped for
  // another id.
  absl::StatusOr<std::string> Unwrap(absl::string_view key_id,
                                     absl::string_view wrapped) const;

  // The signer of a tree, loaded once and cached.
  absl::StatusOr<std::shared_ptr<const crypto::Signer>> SignerFor(
      int64_t tree_id);

  // The checkpoint signer of a log, named by the origin in its LogSettings,
  // loaded once and cached. NOT_FOUND if the log has no note key.
  absl::StatusOr<std::shared_ptr<const tlog::NoteSigner>> NoteSignerFor(
      int64_t tree_id);

 private:
  storage::TreeStorage* const trees_;
  const std::string kek_;
  absl::Mutex mu_;
  absl::flat_hash_map<int64_t, std::shared_ptr<const crypto::Signer>> signers_
      ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<int64_t, std::shared_ptr<const tlog::NoteSigner>>
      note_signers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace trellis::admin

#endif  // TRELLIS_ADMIN_KEY_STORE_H_
