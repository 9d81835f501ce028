#include "map/hasher.h"

#include "absl/strings/str_cat.h"

namespace trellis::map {

absl::StatusOr<std::unique_ptr<merkle::smt::MapHasher>> NewMapHasher(
    trillian::HashStrategy strategy) {
  switch (strategy) {
    case trillian::CONIKS_SHA512_256:
      return merkle::smt::NewConiksSha512_256Hasher();
    case trillian::CONIKS_SHA256:
      return merkle::smt::NewConiksSha256Hasher();
    case trillian::TEST_MAP_HASHER:
      return merkle::smt::NewTestMapHasher();
    default:
      return absl::InvalidArgumentError(
          absl::StrCat("hash strategy ", trillian::HashStrategy_Name(strategy),
                       " is not a map hasher"));
  }
}

}  // namespace trellis::map
