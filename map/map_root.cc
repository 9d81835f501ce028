#include "map/map_root.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "util/tls_codec.h"

namespace trellis::map {
namespace {
constexpr uint64_t kVersion1 = 1;
}  // namespace

absl::StatusOr<std::string> SerializeMapRoot(const MapRootV1& root) {
  if (root.root_hash.size() > kMaxRootHashBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("root hash longer than ", kMaxRootHashBytes, " bytes"));
  }
  if (root.metadata.size() > kMaxRootMetadataBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("metadata longer than ", kMaxRootMetadataBytes, " bytes"));
  }
  std::string out;
  PutUint(out, kVersion1, 2);
  PutUint(out, root.root_hash.size(), 1);
  out += root.root_hash;
  PutUint(out, root.timestamp_nanos, 8);
  PutUint(out, root.revision, 8);
  PutUint(out, root.metadata.size(), 2);
  out += root.metadata;
  return out;
}

absl::StatusOr<MapRootV1> ParseMapRoot(absl::string_view bytes) {
  TlsReader reader(bytes);
  if (reader.ReadUint(2) != kVersion1 || !reader.ok()) {
    return absl::InvalidArgumentError("map root version is not 1");
  }
  MapRootV1 root;
  root.root_hash = reader.ReadOpaque(1);
  root.timestamp_nanos = reader.ReadUint(8);
  root.revision = reader.ReadUint(8);
  root.metadata = reader.ReadOpaque(2);
  if (!reader.done()) return absl::InvalidArgumentError("malformed map root");
  return root;
}

absl::StatusOr<trillian::SignedMapRoot> SignMapRoot(
    const MapRootV1& root, const crypto::Signer& signer) {
  absl::StatusOr<std::string> bytes = SerializeMapRoot(root);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<std::string> signature = signer.Sign(*bytes);
  if (!signature.ok()) return signature.status();
  trillian::SignedMapRoot signed_root;
  signed_root.set_map_root(std::move(*bytes));
  signed_root.set_signature(std::move(*signature));
  return signed_root;
}

}  // namespace trellis::map
