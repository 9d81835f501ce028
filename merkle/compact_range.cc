#include "merkle/compact_range.h"

#include <bitset>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "merkle/hasher.h"

namespace trellis::merkle {

absl::StatusOr<CompactRange> CompactRange::FromHashes(
    uint64_t size, std::vector<std::string> hashes) {
  const size_t expected = std::bitset<64>(size).count();
  if (hashes.size() != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("compact range of size ", size, " needs ", expected,
                     " hashes, got ", hashes.size()));
  }
  for (const std::string& h : hashes) {
    if (h.size() != kHashSize) {
      return absl::InvalidArgumentError("compact range hash has wrong length");
    }
  }
  CompactRange range;
  range.size_ = size;
  range.hashes_ = std::move(hashes);
  return range;
}

void CompactRange::Append(std::string leaf_hash, const NodeVisitor& visitor) {
  NodeID id{0, size_};
  if (visitor) visitor(id, leaf_hash);
  // Each trailing one bit of the old size is a left sibling to merge with.
  for (uint64_t s = size_; s & 1; s >>= 1) {
    leaf_hash = HashChildren(hashes_.back(), leaf_hash);
    hashes_.pop_back();
    id = {id.level + 1, id.index >> 1};
    if (visitor) visitor(id, leaf_hash);
  }
  hashes_.push_back(std::move(leaf_hash));
  ++size_;
}

std::string CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  std::string root = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) {
    root = HashChildren(hashes_[i], root);
  }
  return root;
}

}  // namespace trellis::merkle
