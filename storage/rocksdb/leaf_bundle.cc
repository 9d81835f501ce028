#include "storage/rocksdb/leaf_bundle.h"

#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/rocksdb/database.h"
#include "storage/rocksdb/keys.h"
#include "util/varint.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr uint64_t kCustomIdentity = 1;
constexpr uint64_t kHasQueueTime = 2;
constexpr uint64_t kHasIntegrateTime = 4;
constexpr uint64_t kValueApart = 8;
constexpr uint64_t kWideTimes = 16;
constexpr uint64_t kSameIntegrateTime = 32;
constexpr int kFlagBits = 6;
constexpr uint64_t kKnownFlags = (1 << kFlagBits) - 1;

constexpr size_t kMaxEntrySize = 0xFFFF;
constexpr size_t kIdentitySize = 32;
constexpr int64_t kNanosPerSecond = 1000000000;
// Times within about 126 years of 1970 are stored as nanoseconds; their
// differences then fit an int64 too.
constexpr int64_t kMaxNarrowSeconds = 4000000000;

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>((v >> 1) ^ (~(v & 1) + 1));
}

bool IsNarrow(int64_t seconds, int32_t nanos) {
  return nanos >= 0 && nanos < kNanosPerSecond &&
         seconds >= -kMaxNarrowSeconds && seconds <= kMaxNarrowSeconds;
}

int64_t ToNanos(int64_t seconds, int32_t nanos) {
  return seconds * kNanosPerSecond + nanos;
}

absl::Status Corrupt(absl::string_view what) {
  return absl::DataLossError(absl::StrCat("entry bundle is corrupt: ", what));
}

}  // namespace

absl::StatusOr<LeafBundle> LeafBundle::Decode(std::string entries,
                                              std::string sidecar) {
  LeafBundle bundle;
  bundle.entries_ = std::move(entries);
  bundle.sidecar_ = std::move(sidecar);
  size_t entry_pos = 0;
  size_t sidecar_pos = 0;
  while (entry_pos < bundle.entries_.size()) {
    if (bundle.leaves_.size() == kLeavesPerBundle) {
      return Corrupt("more than 256 entries");
    }
    if (bundle.entries_.size() - entry_pos < 2) return Corrupt("truncated");
    const size_t length =
        (static_cast<uint8_t>(bundle.entries_[entry_pos]) << 8) |
        static_cast<uint8_t>(bundle.entries_[entry_pos + 1]);
    entry_pos += 2;
    if (bundle.entries_.size() - entry_pos < length) {
      return Corrupt("truncated entry");
    }
    absl::StatusOr<Decoded> leaf =
        bundle.ParseNext(&sidecar_pos, Span{entry_pos, length});
    if (!leaf.ok()) return leaf.status();
    entry_pos += length;
    leaf->entry_end = entry_pos;
    bundle.leaves_.push_back(*leaf);
  }
  if (sidecar_pos != bundle.sidecar_.size()) {
    return Corrupt("sidecar describes more leaves than the bundle");
  }
  return bundle;
}

absl::StatusOr<LeafBundle::Decoded> LeafBundle::ParseNext(size_t* pos,
                                                          Span entry) const {
  const absl::string_view data = sidecar_;
  Decoded leaf;
  leaf.value = entry;
  uint64_t header = 0;
  if (!GetVarint(data, pos, &header)) return Corrupt("truncated header");
  leaf.flags = header & kKnownFlags;
  const uint64_t extra_size = header >> kFlagBits;
  auto take = [&](size_t size, Span* span) {
    if (data.size() - *pos < size) return false;
    *span = Span{*pos, size};
    *pos += size;
    return true;
  };
  if ((leaf.flags & kCustomIdentity) && !take(kIdentitySize, &leaf.identity)) {
    return Corrupt("truncated identity hash");
  }
  if ((leaf.flags & kValueApart) && entry.size != 0) {
    return Corrupt("a long value's entry is not empty");
  }
  if (extra_size > data.size() ||
      !take(static_cast<size_t>(extra_size), &leaf.extra)) {
    return Corrupt("truncated extra data");
  }

  const bool has_integrate = leaf.flags & kHasIntegrateTime;
  const bool has_queue = leaf.flags & kHasQueueTime;
  if (leaf.flags & kWideTimes) {
    for (auto [present, time] : {std::make_pair(has_integrate, &leaf.integrate),
                                 std::make_pair(has_queue, &leaf.queue)}) {
      if (!present) continue;
      uint64_t seconds = 0, nanos = 0;
      if (!GetVarint(data, pos, &seconds) || !GetVarint(data, pos, &nanos) ||
          UnZigZag(nanos) < std::numeric_limits<int32_t>::min() ||
          UnZigZag(nanos) > std::numeric_limits<int32_t>::max()) {
        return Corrupt("bad time");
      }
      *time = Time{UnZigZag(seconds), static_cast<int32_t>(UnZigZag(nanos))};
    }
    return leaf;
  }
  const int64_t previous = PreviousIntegrateNanos();
  int64_t integrate_nanos = 0;
  for (auto [present, is_integrate] : {std::make_pair(has_integrate, true),
                                       std::make_pair(has_queue, false)}) {
    if (!present) continue;
    uint64_t delta = 0;
    const bool same = is_integrate && (leaf.flags & kSameIntegrateTime);
    if (!same && !GetVarint(data, pos, &delta)) {
      return Corrupt("truncated time");
    }
    const int64_t nanos =
        is_integrate
            ? static_cast<int64_t>(static_cast<uint64_t>(previous) +
                                   static_cast<uint64_t>(UnZigZag(delta)))
            : static_cast<int64_t>(static_cast<uint64_t>(integrate_nanos) -
                                   static_cast<uint64_t>(UnZigZag(delta)));
    if (is_integrate) integrate_nanos = nanos;
    // Floor division, so that times before 1970 keep nanos in [0, 1e9).
    int64_t seconds = nanos / kNanosPerSecond;
    int64_t rest = nanos % kNanosPerSecond;
    if (rest < 0) {
      rest += kNanosPerSecond;
      --seconds;
    }
    // Append stores only such times so: anything else is corrupt (and
    // would overflow as the base of the next leaf's time).
    if (!IsNarrow(seconds, static_cast<int32_t>(rest))) {
      return Corrupt("time out of range");
    }
    (is_integrate ? leaf.integrate : leaf.queue) =
        Time{seconds, static_cast<int32_t>(rest)};
  }
  return leaf;
}

absl::Status LeafBundle::Append(const trillian::LogLeaf& leaf) {
  if (full()) {
    return absl::FailedPreconditionError("entry bundle is full");
  }
  const bool custom_identity =
      leaf.leaf_identity_hash() != leaf.merkle_leaf_hash();
  if (custom_identity && leaf.leaf_identity_hash().size() != kIdentitySize) {
    return absl::InvalidArgumentError("identity hash is not 32 bytes");
  }
  const bool has_integrate = leaf.has_integrate_timestamp();
  const bool has_queue = leaf.has_queue_timestamp();
  const bool long_value = leaf.leaf_value().size() > kMaxEntrySize;
  bool wide = false;
  if (has_integrate) {
    wide |= !IsNarrow(leaf.integrate_timestamp().seconds(),
                      leaf.integrate_timestamp().nanos());
  }
  if (has_queue) {
    wide |= !IsNarrow(leaf.queue_timestamp().seconds(),
                      leaf.queue_timestamp().nanos());
  }
  uint64_t flags = 0;
  if (custom_identity) flags |= kCustomIdentity;
  if (has_queue) flags |= kHasQueueTime;
  if (has_integrate) flags |= kHasIntegrateTime;
  if (long_value) flags |= kValueApart;
  if (wide) flags |= kWideTimes;
  const int64_t previous = PreviousIntegrateNanos();
  int64_t integrate_nanos = 0;
  if (has_integrate && !wide) {
    integrate_nanos = ToNanos(leaf.integrate_timestamp().seconds(),
                              leaf.integrate_timestamp().nanos());
    // Leaves of one sequencing pass share their integrate time.
    if (integrate_nanos == previous) flags |= kSameIntegrateTime;
  }

  const size_t sidecar_start = sidecar_.size();
  const size_t entries_start = entries_.size();
  PutVarint(sidecar_,
            flags | (uint64_t{leaf.extra_data().size()} << kFlagBits));
  if (custom_identity) sidecar_ += leaf.leaf_identity_hash();
  const absl::string_view entry =
      long_value ? absl::string_view() : leaf.leaf_value();
  entries_.push_back(static_cast<char>(entry.size() >> 8));
  entries_.push_back(static_cast<char>(entry.size() & 0xFF));
  entries_.append(entry.data(), entry.size());
  sidecar_ += leaf.extra_data();
  if (wide) {
    for (auto [present, time] :
         {std::make_pair(has_integrate, &leaf.integrate_timestamp()),
          std::make_pair(has_queue, &leaf.queue_timestamp())}) {
      if (!present) continue;
      PutVarint(sidecar_, ZigZag(time->seconds()));
      PutVarint(sidecar_, ZigZag(time->nanos()));
    }
  } else {
    if (has_integrate && !(flags & kSameIntegrateTime)) {
      PutVarint(sidecar_, ZigZag(integrate_nanos - previous));
    }
    if (has_queue) {
      PutVarint(sidecar_, ZigZag(integrate_nanos -
                                 ToNanos(leaf.queue_timestamp().seconds(),
                                         leaf.queue_timestamp().nanos())));
    }
  }
  // Parse what was written, so that the in-memory form is the stored one.
  size_t pos = sidecar_start;
  absl::StatusOr<Decoded> decoded =
      ParseNext(&pos, Span{entries_start + 2, entry.size()});
  if (!decoded.ok()) return decoded.status();
  decoded->entry_end = entries_.size();
  leaves_.push_back(*decoded);
  return absl::OkStatus();
}

int64_t LeafBundle::PreviousIntegrateNanos() const {
  if (leaves_.empty()) return 0;
  const Decoded& last = leaves_.back();
  if (!(last.flags & kHasIntegrateTime) || (last.flags & kWideTimes)) return 0;
  return ToNanos(last.integrate.seconds, last.integrate.nanos);
}

bool LeafBundle::ValueApart(size_t offset) const {
  return leaves_[offset].flags & kValueApart;
}

trillian::LogLeaf LeafBundle::Leaf(size_t offset, uint64_t leaf_index,
                                   absl::string_view merkle_leaf_hash) const {
  const Decoded& d = leaves_[offset];
  trillian::LogLeaf leaf;
  if (!(d.flags & kValueApart)) {
    leaf.set_leaf_value(entries_.substr(d.value.offset, d.value.size));
  }
  leaf.set_extra_data(sidecar_.substr(d.extra.offset, d.extra.size));
  leaf.set_leaf_index(static_cast<int64_t>(leaf_index));
  leaf.set_merkle_leaf_hash(std::string(merkle_leaf_hash));
  if (d.flags & kCustomIdentity) {
    leaf.set_leaf_identity_hash(
        sidecar_.substr(d.identity.offset, d.identity.size));
  } else {
    leaf.set_leaf_identity_hash(std::string(merkle_leaf_hash));
  }
  if (d.flags & kHasIntegrateTime) {
    leaf.mutable_integrate_timestamp()->set_seconds(d.integrate.seconds);
    leaf.mutable_integrate_timestamp()->set_nanos(d.integrate.nanos);
  }
  if (d.flags & kHasQueueTime) {
    leaf.mutable_queue_timestamp()->set_seconds(d.queue.seconds);
    leaf.mutable_queue_timestamp()->set_nanos(d.queue.nanos);
  }
  return leaf;
}

absl::StatusOr<absl::string_view> LeafBundle::EntriesPrefix(
    size_t width) const {
  if (width == 0 || width > leaves_.size()) {
    return absl::NotFoundError("bundle not stored");
  }
  for (size_t i = 0; i < width; ++i) {
    if (ValueApart(i)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "entry ", i, " of the bundle is longer than 65535 bytes"));
    }
  }
  return absl::string_view(entries_).substr(0, leaves_[width - 1].entry_end);
}

absl::Status AppendLeaf(const trillian::LogLeaf& leaf, uint64_t index,
                        int64_t tree_id, ::rocksdb::ColumnFamilyHandle* family,
                        LeafBundle& bundle, ::rocksdb::WriteBatch& batch) {
  if (absl::Status s = bundle.Append(leaf); !s.ok()) return s;
  if (!bundle.ValueApart(bundle.size() - 1)) return absl::OkStatus();
  return ToAbsl(
      batch.Put(family, keys::LongValue(tree_id, index), leaf.leaf_value()));
}

absl::Status PutBundle(const LeafBundle& bundle, uint64_t bundle_index,
                       int64_t tree_id, ::rocksdb::ColumnFamilyHandle* family,
                       ::rocksdb::WriteBatch& batch) {
  absl::Status s = ToAbsl(
      batch.Put(family, keys::Bundle(tree_id, bundle_index), bundle.entries()));
  if (!s.ok()) return s;
  return ToAbsl(batch.Put(family, keys::Sidecar(tree_id, bundle_index),
                          bundle.sidecar()));
}

}  // namespace trellis::storage::rocksdb
