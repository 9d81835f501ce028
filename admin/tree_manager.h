// Tree lifecycle with Trillian's admin rules: creation with a generated or
// supplied key, field-mask updates, soft delete. Private keys go in, never
// out: every returned Tree has private_key cleared.
#ifndef TRELLIS_ADMIN_TREE_MANAGER_H_
#define TRELLIS_ADMIN_TREE_MANAGER_H_

#include <vector>

#include "absl/status/statusor.h"
#include "admin/key_store.h"
#include "storage/log_storage.h"
#include "storage/tree_storage.h"
#include "trillian_admin_api.pb.h"

namespace trellis::admin {

class TreeManager {
 public:
  // `pem_key_dir`: the only directory from which keyspb.PEMKeyFile keys are
  // read; empty refuses PEMKeyFile.
  TreeManager(storage::TreeStorage* trees, storage::LogStorage* logs,
              KeyStore* keys, std::string pem_key_dir = "")
      : trees_(trees),
        logs_(logs),
        keys_(keys),
        pem_key_dir_(std::move(pem_key_dir)) {}

  // Unset fields get defaults: ACTIVE, RFC6962_SHA256, SHA256, the
  // signature algorithm of the key, and an ECDSA P-256 key when neither
  // key_spec nor private_key is given. Explicit values must be consistent.
  absl::StatusOr<trillian::Tree> CreateTree(
      const trillian::CreateTreeRequest& request);
  absl::StatusOr<trillian::Tree> GetTree(int64_t tree_id);
  absl::StatusOr<std::vector<trillian::Tree>> ListTrees(bool show_deleted);
  absl::StatusOr<trillian::Tree> UpdateTree(
      const trillian::UpdateTreeRequest& request);
  absl::StatusOr<trillian::Tree> DeleteTree(int64_t tree_id);
  absl::StatusOr<trillian::Tree> UndeleteTree(int64_t tree_id);

 private:
  // Storage settings, if any, are a trellis.MapSettings naming a LOG tree.
  absl::Status ValidateSettings(const trillian::Tree& tree);

  storage::TreeStorage* const trees_;
  storage::LogStorage* const logs_;
  KeyStore* const keys_;
  const std::string pem_key_dir_;
};

}  // namespace trellis::admin

#endif  // TRELLIS_ADMIN_TREE_MANAGER_H_
