#include "log/root_signer.h"

#include "util/tls_codec.h"

namespace trellis::log {

absl::StatusOr<trillian::SignedLogRoot> SignLogRoot(
    int64_t tree_id, const merkle::LogRootV1& root,
    const crypto::Signer& signer) {
  absl::StatusOr<std::string> bytes = merkle::SerializeLogRoot(root);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<std::string> signature = signer.Sign(*bytes);
  if (!signature.ok()) return signature.status();
  trillian::SignedLogRoot signed_root;
  std::string hint;
  PutUint(hint, static_cast<uint64_t>(tree_id), 8);
  signed_root.set_key_hint(hint);
  signed_root.set_log_root(std::move(*bytes));
  signed_root.set_log_root_signature(std::move(*signature));
  return signed_root;
}

}  // namespace trellis::log
