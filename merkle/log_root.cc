#include "merkle/log_root.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "util/tls_codec.h"

namespace trellis::merkle {
namespace {
constexpr uint64_t kVersion1 = 1;

absl::Status RootHashTooLong() {
  return absl::InvalidArgumentError(
      absl::StrCat("root hash longer than ", kMaxRootHashBytes, " bytes"));
}
}  // namespace

absl::StatusOr<std::string> SerializeLogRoot(const LogRootV1& root) {
  if (root.root_hash.size() > kMaxRootHashBytes) return RootHashTooLong();
  if (root.metadata.size() > kMaxRootMetadataBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("metadata longer than ", kMaxRootMetadataBytes, " bytes"));
  }
  std::string out;
  out.reserve(2 + 8 + 1 + root.root_hash.size() + 8 + 8 + 2 +
              root.metadata.size());
  PutUint(out, kVersion1, 2);
  PutUint(out, root.tree_size, 8);
  PutUint(out, root.root_hash.size(), 1);
  out += root.root_hash;
  PutUint(out, root.timestamp_nanos, 8);
  PutUint(out, root.revision, 8);
  PutUint(out, root.metadata.size(), 2);
  out += root.metadata;
  return out;
}

absl::StatusOr<LogRootV1> ParseLogRoot(absl::string_view bytes) {
  TlsReader reader(bytes);
  const uint64_t version = reader.ReadUint(2);
  if (reader.ok() && version != kVersion1) {
    return absl::InvalidArgumentError("log root version is not 1");
  }
  LogRootV1 root;
  root.tree_size = reader.ReadUint(8);
  root.root_hash = reader.ReadOpaque(1);
  root.timestamp_nanos = reader.ReadUint(8);
  root.revision = reader.ReadUint(8);
  root.metadata = reader.ReadOpaque(2);
  if (!reader.ok()) return absl::InvalidArgumentError("log root is truncated");
  if (!reader.done()) {
    return absl::InvalidArgumentError("log root has trailing bytes");
  }
  if (root.root_hash.size() > kMaxRootHashBytes) return RootHashTooLong();
  return root;
}

}  // namespace trellis::merkle
