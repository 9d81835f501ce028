#include "storage/rocksdb/unindexed_identities.h"

#include <algorithm>

namespace trellis::storage::rocksdb {
namespace {

bool SamePosition(const LeafPosition& a, const LeafPosition& b) {
  return a.kind == b.kind && a.n == b.n && a.offset == b.offset;
}

}  // namespace

void UnindexedIdentities::AddQueued(uint64_t key,
                                    const LeafPosition& position) {
  positions_[key].push_back(position);
}

void UnindexedIdentities::AddIntegrated(
    uint64_t key, const std::optional<LeafPosition>& queued, uint64_t index) {
  const LeafPosition at_index{LeafPosition::Kind::kIndex, index};
  auto& held = positions_[key];
  auto it = std::find_if(held.begin(), held.end(), [&](const LeafPosition& p) {
    return queued.has_value() && SamePosition(p, *queued);
  });
  if (it != held.end()) {
    *it = at_index;
  } else {
    held.push_back(at_index);
  }
  integrated_.emplace_back(index, key);
}

absl::Span<const LeafPosition> UnindexedIdentities::Find(uint64_t key) const {
  auto it = positions_.find(key);
  if (it == positions_.end()) return {};
  return it->second;
}

std::vector<std::pair<uint64_t, uint64_t>> UnindexedIdentities::Integrated(
    size_t max) const {
  const size_t n = std::min(max, integrated_.size());
  return {integrated_.begin(), integrated_.begin() + n};
}

void UnindexedIdentities::DropIntegrated(size_t count) {
  count = std::min(count, integrated_.size());
  for (size_t i = 0; i < count; ++i) {
    const auto [index, key] = integrated_.front();
    integrated_.pop_front();
    indexed_size_ = std::max(indexed_size_, index + 1);
    auto it = positions_.find(key);
    if (it == positions_.end()) continue;
    auto& held = it->second;
    const LeafPosition at_index{LeafPosition::Kind::kIndex, index};
    held.erase(std::remove_if(held.begin(), held.end(),
                              [&](const LeafPosition& p) {
                                return SamePosition(p, at_index);
                              }),
               held.end());
    if (held.empty()) positions_.erase(it);
  }
}

}  // namespace trellis::storage::rocksdb
