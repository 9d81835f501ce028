// Tree lifecycle with Trillian's admin rules: creation with a generated or
// supplied key, field-mask updates, soft delete. Private keys go in, never
// out: every returned Tree has private_key cleared.
#ifndef TRELLIS_ADMIN_TREE_MANAGER_H_
#define TRELLIS_ADMIN_TREE_MANAGER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "admin/key_store.h"
#include "storage/log_storage.h"
#include "storage/tree_storage.h"
#include "trellis_settings.pb.h"
#include "trillian_admin_api.pb.h"

namespace trellis::admin {

class TreeManager {
 public:
  // `pem_key_dir`: the only directory from which keyspb.PEMKeyFile keys are
  // read; empty refuses PEMKeyFile. `origin_prefix`: logs created without an
  // origin get "<origin_prefix>/<tree id>".
  TreeManager(storage::TreeStorage* trees, storage::LogStorage* logs,
              KeyStore* keys, std::string pem_key_dir = "",
              std::string origin_prefix = kDefaultOriginPrefix)
      : trees_(trees),
        logs_(logs),
        keys_(keys),
        pem_key_dir_(std::move(pem_key_dir)),
        origin_prefix_(std::move(origin_prefix)) {}

  static constexpr char kDefaultOriginPrefix[] = "localhost/trellis";

  // Unset fields get defaults: ACTIVE, RFC6962_SHA256, SHA256, the
  // signature algorithm of the key, and an ECDSA P-256 key when neither
  // key_spec nor private_key is given. Explicit values must be consistent.
  // Logs also get a checkpoint origin and an Ed25519 note key (LogSettings),
  // and serve entry bundles unless their LogSettings say otherwise.
  absl::StatusOr<trillian::Tree> CreateTree(
      const trillian::CreateTreeRequest& request);
  absl::StatusOr<trillian::Tree> GetTree(int64_t tree_id);
  absl::StatusOr<std::vector<trillian::Tree>> ListTrees(bool show_deleted);
  absl::StatusOr<trillian::Tree> UpdateTree(
      const trillian::UpdateTreeRequest& request);
  absl::StatusOr<trillian::Tree> DeleteTree(int64_t tree_id);
  absl::StatusOr<trillian::Tree> UndeleteTree(int64_t tree_id);

  // Gives every log created before checkpoints (no note key) its origin and
  // note key, without entry bundles (its leaves may be over their limit).
  // Returns how many logs were given one.
  absl::StatusOr<int> AddMissingNoteKeys();

 private:
  // Storage settings, if any, are a trellis.MapSettings naming a LOG tree
  // for maps, a trellis.LogSettings for logs.
  absl::Status ValidateSettings(const trillian::Tree& tree);
  // Applies the changeable fields of `in`'s LogSettings to `tree`'s.
  absl::Status UpdateLogSettings(const trillian::Tree& in,
                                 trillian::Tree& tree);
  // The settings of new log `tree_id`: `requested` with the origin defaulted
  // and the verifier key of `note_key`.
  absl::StatusOr<KeyStore::NewNoteKey> NewNoteKey(
      int64_t tree_id, trellis::LogSettings& settings);

  storage::TreeStorage* const trees_;
  storage::LogStorage* const logs_;
  KeyStore* const keys_;
  const std::string pem_key_dir_;
  const std::string origin_prefix_;
  // Origins are unique: checking and creating are one step.
  absl::Mutex create_mu_;
};

}  // namespace trellis::admin

#endif  // TRELLIS_ADMIN_TREE_MANAGER_H_
