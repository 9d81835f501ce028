#include "merkle/hasher.h"

#include "crypto/digest.h"

namespace trellis::merkle {
namespace {

constexpr char kLeafPrefix[] = {0x00};
constexpr char kNodePrefix[] = {0x01};
constexpr auto kSha256 = crypto::DigestAlgorithm::kSha256;

}  // namespace

std::string Sha256(absl::string_view data) {
  return crypto::Digest(kSha256, {data});
}

std::string HashLeaf(absl::string_view leaf_value) {
  return crypto::Digest(kSha256,
                        {absl::string_view(kLeafPrefix, 1), leaf_value});
}

std::string HashChildren(absl::string_view left, absl::string_view right) {
  return crypto::Digest(kSha256,
                        {absl::string_view(kNodePrefix, 1), left, right});
}

const std::string& EmptyRoot() {
  static const std::string* const kEmpty = new std::string(Sha256(""));
  return *kEmpty;
}

}  // namespace trellis::merkle
