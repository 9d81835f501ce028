// Turns a LogRootV1 into a SignedLogRoot with a tree's key.
#ifndef TRELLIS_LOG_ROOT_SIGNER_H_
#define TRELLIS_LOG_ROOT_SIGNER_H_

#include <cstdint>
#include <functional>
#include <memory>

#include "absl/status/statusor.h"
#include "crypto/signer.h"
#include "merkle/log_root.h"
#include "trillian.pb.h"

namespace trellis::log {

// Finds the signer of a tree (admin::KeyStore::SignerFor in the server).
using SignerProvider =
    std::function<absl::StatusOr<std::shared_ptr<const crypto::Signer>>(
        int64_t tree_id)>;

// key_hint is the tree id as 8 big-endian bytes, as Trillian sets it.
absl::StatusOr<trillian::SignedLogRoot> SignLogRoot(
    int64_t tree_id, const merkle::LogRootV1& root,
    const crypto::Signer& signer);

}  // namespace trellis::log

#endif  // TRELLIS_LOG_ROOT_SIGNER_H_
