// MapRootV1: the map head a map signs, TLS-encoded as Trillian defines it.
#ifndef TRELLIS_MAP_MAP_ROOT_H_
#define TRELLIS_MAP_MAP_ROOT_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "crypto/signer.h"
#include "trillian.pb.h"

namespace trellis::map {

struct MapRootV1 {
  std::string root_hash;
  uint64_t timestamp_nanos = 0;
  uint64_t revision = 0;
  std::string metadata;
};

// Longest root_hash and metadata a MapRootV1 encodes.
inline constexpr size_t kMaxRootHashBytes = 128;
inline constexpr size_t kMaxRootMetadataBytes = 65535;

// uint16 version=1 | opaque root_hash<0..128> | uint64 timestamp_nanos |
// uint64 revision | opaque metadata<0..65535>.
absl::StatusOr<std::string> SerializeMapRoot(const MapRootV1& root);
// Strict inverse; INVALID_ARGUMENT for anything else.
absl::StatusOr<MapRootV1> ParseMapRoot(absl::string_view bytes);

// Signs a map root as Trillian does (the same signer as log roots).
absl::StatusOr<trillian::SignedMapRoot> SignMapRoot(
    const MapRootV1& root, const crypto::Signer& signer);

}  // namespace trellis::map

#endif  // TRELLIS_MAP_MAP_ROOT_H_
