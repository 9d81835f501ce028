// RFC 6962 / RFC 9162 Merkle tree hashing with SHA-256.
#ifndef TRELLIS_MERKLE_HASHER_H_
#define TRELLIS_MERKLE_HASHER_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace trellis::merkle {

// Size in bytes of every hash in an RFC6962_SHA256 tree.
inline constexpr size_t kHashSize = 32;

// Plain SHA-256 of `data`.
std::string Sha256(absl::string_view data);

// Leaf hash: SHA-256(0x00 || leaf_value).
std::string HashLeaf(absl::string_view leaf_value);

// Interior node hash: SHA-256(0x01 || left || right).
std::string HashChildren(absl::string_view left, absl::string_view right);

// Root of the empty tree: SHA-256 of the empty string.
const std::string& EmptyRoot();

}  // namespace trellis::merkle

#endif  // TRELLIS_MERKLE_HASHER_H_
