// Sparse Merkle map hashers, exactly as Trillian v1.3.11 defines them, so
// that proofs verify with Trillian's own map verifier.
//
// Positions: a map has 2^256 leaves addressed by 32-byte indices, read most
// significant bit first. A node at `height` h (0 = leaf, 256 = root) on the
// path of an index covers the leaves sharing the index's first 256 - h bits.
#ifndef TRELLIS_MERKLE_SMT_HASHER_H_
#define TRELLIS_MERKLE_SMT_HASHER_H_

#include <cstdint>
#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace trellis::merkle::smt {

inline constexpr int kIndexBytes = 32;
inline constexpr int kIndexBits = 256;

class MapHasher {
 public:
  virtual ~MapHasher() = default;

  // Hash of an empty subtree at `height` on the path of `index` (only the
  // first 256 - height bits of the index count; index may be shorter than
  // 32 bytes if those bits fit).
  virtual std::string HashEmpty(int64_t tree_id, absl::string_view index,
                                int height) const = 0;
  // Hash of a set leaf.
  virtual std::string HashLeaf(int64_t tree_id, absl::string_view index,
                               absl::string_view value) const = 0;
  virtual std::string HashChildren(absl::string_view left,
                                   absl::string_view right) const = 0;
};

// Trillian's CONIKS hasher over SHA-512/256 (CONIKS_SHA512_256) or SHA-256
// (CONIKS_SHA256).
std::unique_ptr<MapHasher> NewConiksSha512_256Hasher();
std::unique_ptr<MapHasher> NewConiksSha256Hasher();
// Trillian's TEST_MAP_HASHER (plain SHA-256, no tree id or index binding).
std::unique_ptr<MapHasher> NewTestMapHasher();

// The first `bits` bits of `index`, the rest zero, as 32 bytes.
std::string MaskIndex(absl::string_view index, int bits);

// Bit `bit` (0 = most significant) of a 32-byte index.
inline int IndexBit(absl::string_view index, int bit) {
  return (static_cast<uint8_t>(index[bit / 8]) >> (7 - bit % 8)) & 1;
}

}  // namespace trellis::merkle::smt

#endif  // TRELLIS_MERKLE_SMT_HASHER_H_
