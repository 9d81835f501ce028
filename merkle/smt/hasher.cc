#include "merkle/smt/hasher.h"

#include <algorithm>
#include <array>
#include <cstring>

#include "crypto/digest.h"
#include "util/tls_codec.h"

namespace trellis::merkle::smt {
namespace {

void PutBigEndian(char* out, uint64_t value, int bytes) {
  for (int i = bytes - 1; i >= 0; --i, value >>= 8) {
    out[i] = static_cast<char>(value & 0xff);
  }
}

// The first `bits` bits of `index` into out[0..32), the rest zero.
void WriteMaskedIndex(absl::string_view index, int bits, char* out) {
  std::memset(out, 0, kIndexBytes);
  const int whole = std::min<int>(bits / 8, index.size());
  std::memcpy(out, index.data(), whole);
  if (bits % 8 != 0 && bits / 8 < static_cast<int>(index.size())) {
    const uint8_t mask = static_cast<uint8_t>(0xff << (8 - bits % 8));
    out[bits / 8] =
        static_cast<char>(static_cast<uint8_t>(index[bits / 8]) & mask);
  }
}

// CONIKS: leaf = H("L" || tree_id || index || uint32 depth=256 || value),
// empty = H("E" || tree_id || index masked to depth || uint32 depth),
// children = H(left || right), where depth = 256 - height and integers are
// big-endian.
class ConiksHasher : public MapHasher {
 public:
  explicit ConiksHasher(crypto::DigestAlgorithm algorithm)
      : algorithm_(algorithm) {}

  std::string HashEmpty(int64_t tree_id, absl::string_view index,
                        int height) const override {
    // Built in place: this is the hot path of map updates.
    const int depth = kIndexBits - height;
    char buf[1 + 8 + kIndexBytes + 4] = {'E'};
    PutBigEndian(buf + 1, static_cast<uint64_t>(tree_id), 8);
    WriteMaskedIndex(index, depth, buf + 9);
    PutBigEndian(buf + 9 + kIndexBytes, static_cast<uint32_t>(depth), 4);
    return crypto::Digest(algorithm_, {absl::string_view(buf, sizeof(buf))});
  }

  std::string HashLeaf(int64_t tree_id, absl::string_view index,
                       absl::string_view value) const override {
    std::string tree_and_index;
    PutUint(tree_and_index, static_cast<uint64_t>(tree_id), 8);
    tree_and_index += MaskIndex(index, kIndexBits);
    PutUint(tree_and_index, kIndexBits, 4);
    return crypto::Digest(algorithm_, {"L", tree_and_index, value});
  }

  std::string HashChildren(absl::string_view left,
                           absl::string_view right) const override {
    return crypto::Digest(algorithm_, {left, right});
  }

 private:
  const crypto::DigestAlgorithm algorithm_;
};

// TEST_MAP_HASHER: RFC 6962 prefixes; the empty subtree of height h is
// built from two empty subtrees of height h - 1, starting from the hash of
// an empty leaf. Position-independent, so not safe across trees.
class TestMapHasher : public MapHasher {
 public:
  TestMapHasher() {
    empty_[0] = HashLeaf(0, "", "");
    for (int h = 1; h <= kIndexBits; ++h) {
      empty_[h] = HashChildren(empty_[h - 1], empty_[h - 1]);
    }
  }

  std::string HashEmpty(int64_t, absl::string_view, int height) const override {
    return empty_[height];
  }

  std::string HashLeaf(int64_t, absl::string_view,
                       absl::string_view value) const override {
    return crypto::Digest(crypto::DigestAlgorithm::kSha256,
                          {absl::string_view("\x00", 1), value});
  }

  std::string HashChildren(absl::string_view left,
                           absl::string_view right) const override {
    return crypto::Digest(crypto::DigestAlgorithm::kSha256,
                          {absl::string_view("\x01", 1), left, right});
  }

 private:
  std::array<std::string, kIndexBits + 1> empty_;
};

}  // namespace

std::string MaskIndex(absl::string_view index, int bits) {
  std::string out(kIndexBytes, '\0');
  WriteMaskedIndex(index, bits, out.data());
  return out;
}

std::unique_ptr<MapHasher> NewConiksSha512_256Hasher() {
  return std::make_unique<ConiksHasher>(crypto::DigestAlgorithm::kSha512_256);
}

std::unique_ptr<MapHasher> NewConiksSha256Hasher() {
  return std::make_unique<ConiksHasher>(crypto::DigestAlgorithm::kSha256);
}

std::unique_ptr<MapHasher> NewTestMapHasher() {
  return std::make_unique<TestMapHasher>();
}

}  // namespace trellis::merkle::smt
