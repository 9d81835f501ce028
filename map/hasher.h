// The map hasher a Trillian tree's hash strategy names.
#ifndef TRELLIS_MAP_HASHER_H_
#define TRELLIS_MAP_HASHER_H_

#include <memory>

#include "absl/status/statusor.h"
#include "merkle/smt/hasher.h"
#include "trillian.pb.h"

namespace trellis::map {

// CONIKS_SHA512_256, CONIKS_SHA256 or TEST_MAP_HASHER; INVALID_ARGUMENT
// otherwise.
absl::StatusOr<std::unique_ptr<merkle::smt::MapHasher>> NewMapHasher(
    trillian::HashStrategy strategy);

}  // namespace trellis::map

#endif  // TRELLIS_MAP_HASHER_H_
