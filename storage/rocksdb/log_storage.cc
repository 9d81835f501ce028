#include "storage/rocksdb/log_storage.h"

#include <algorithm>
#include <map>
#include <utility>

#include "absl/functional/function_ref.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/identity_record.h"
#include "storage/rocksdb/keys.h"
#include "storage/rocksdb/root_record.h"
#include "storage/rocksdb/tile.h"
#include "util/tls_codec.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr uint64_t kMaxUint64 = ~uint64_t{0};

// A queued leaf's position, as QueuedEntry::queue_seq carries it: its
// record's sequence number and its offset in the record.
constexpr int kOffsetBits = 20;
constexpr size_t kMaxLeavesPerQueueRecord = size_t{1} << kOffsetBits;
uint64_t Position(uint64_t seq, uint64_t offset) {
  return (seq << kOffsetBits) | offset;
}
uint64_t SeqOf(uint64_t position) { return position >> kOffsetBits; }
uint64_t OffsetOf(uint64_t position) {
  return position & (kMaxLeavesPerQueueRecord - 1);
}

// What a queued leaf takes in memory, roughly.
size_t QueuedBytes(const trillian::LogLeaf& leaf) {
  return leaf.leaf_value().size() + leaf.extra_data().size() + 160;
}

// A queue record: each leaf as a u32 length and a serialized LogLeaf.
std::string EncodeQueueRecord(const std::vector<trillian::LogLeaf>& leaves) {
  std::string out;
  for (const trillian::LogLeaf& leaf : leaves) {
    const std::string bytes = leaf.SerializeAsString();
    PutUint(out, bytes.size(), 4);
    out += bytes;
  }
  return out;
}

absl::StatusOr<std::vector<trillian::LogLeaf>> DecodeQueueRecord(
    absl::string_view record) {
  std::vector<trillian::LogLeaf> leaves;
  while (!record.empty()) {
    if (record.size() < 4)
      return absl::DataLossError("queue record is corrupt");
    uint64_t length = 0;
    for (int i = 0; i < 4; ++i) {
      length = (length << 8) | static_cast<uint8_t>(record[i]);
    }
    record.remove_prefix(4);
    trillian::LogLeaf leaf;
    if (length > record.size() ||
        !leaf.ParseFromArray(record.data(), static_cast<int>(length))) {
      return absl::DataLossError("queue record is corrupt");
    }
    record.remove_prefix(length);
    leaves.push_back(std::move(leaf));
  }
  if (leaves.empty() || leaves.size() > kMaxLeavesPerQueueRecord) {
    return absl::DataLossError("queue record is corrupt");
  }
  return leaves;
}

::rocksdb::Slice ToSlice(absl::string_view s) {
  return ::rocksdb::Slice(s.data(), s.size());
}

absl::string_view View(const ::rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

bool HasPrefix(const ::rocksdb::Slice& key, const std::string& prefix) {
  return key.starts_with(ToSlice(prefix));
}

// The form a tile is cached in: complete level-0 tiles as stored (half the
// size, so twice as many fit; a node read from one costs at most 7
// hashes), the others expanded (tiles above level 0 are few and on every
// proof's path, edge tiles are hot), which costs no hashing on reads.
// `expand` gives the expanded form of `stored`.
absl::StatusOr<std::shared_ptr<const std::string>> CachedForm(
    uint32_t tile_level, absl::string_view stored,
    absl::FunctionRef<absl::StatusOr<std::string>()> expand) {
  if (tile_level == 0 && IsCompleteTile(stored)) {
    return std::make_shared<const std::string>(stored);
  }
  absl::StatusOr<std::string> expanded = expand();
  if (!expanded.ok()) return expanded.status();
  return std::make_shared<const std::string>(std::move(*expanded));
}

// A RocksDB snapshot, released when it goes out of scope.
class SnapshotHolder {
 public:
  explicit SnapshotHolder(::rocksdb::DB* db)
      : db_(db), snapshot_(db->GetSnapshot()) {}
  ~SnapshotHolder() { db_->ReleaseSnapshot(snapshot_); }
  SnapshotHolder(const SnapshotHolder&) = delete;
  SnapshotHolder& operator=(const SnapshotHolder&) = delete;
  const ::rocksdb::Snapshot* get() const { return snapshot_; }

 private:
  ::rocksdb::DB* const db_;
  const ::rocksdb::Snapshot* const snapshot_;
};

// Reads every perfect subtree it is asked for from the tiles that hold them:
// from the cache when there, the rest with one MultiGet.
class TileNodeReader : public merkle::NodeReader {
 public:
  TileNodeReader(Database* db, TileCache* cache, int64_t tree_id)
      : db_(db), cache_(cache), tree_id_(tree_id) {}

  absl::StatusOr<std::vector<std::string>> GetNodes(
      absl::Span<const merkle::NodeID> ids) override {
    std::vector<TileAddress> addresses;
    std::vector<size_t> slots;
    std::vector<std::string> tile_keys;
    std::vector<uint32_t> level_of_slot;  // Tile level of each slot.
    absl::flat_hash_map<std::string, size_t> slot_of;
    addresses.reserve(ids.size());
    for (const merkle::NodeID& id : ids) {
      TileAddress a = Locate(id);
      std::string key = keys::Tile(tree_id_, a.tile_level, a.tile_index);
      auto [it, inserted] = slot_of.emplace(key, tile_keys.size());
      if (inserted) {
        tile_keys.push_back(std::move(key));
        level_of_slot.push_back(a.tile_level);
      }
      addresses.push_back(a);
      slots.push_back(it->second);
    }

    std::vector<std::shared_ptr<const std::string>> tiles(tile_keys.size());
    std::vector<::rocksdb::Slice> missing_keys;
    std::vector<size_t> missing_slots;
    for (size_t i = 0; i < tile_keys.size(); ++i) {
      tiles[i] = cache_->Get(tile_keys[i]);
      if (!tiles[i]) {
        missing_keys.emplace_back(tile_keys[i]);
        missing_slots.push_back(i);
      }
    }
    if (!missing_keys.empty()) {
      std::vector<::rocksdb::PinnableSlice> values(missing_keys.size());
      std::vector<::rocksdb::Status> statuses(missing_keys.size());
      db_->db()->MultiGet(::rocksdb::ReadOptions(), db_->log(),
                          missing_keys.size(), missing_keys.data(),
                          values.data(), statuses.data());
      for (size_t j = 0; j < missing_keys.size(); ++j) {
        if (statuses[j].IsNotFound()) continue;  // Reported per node below.
        if (!statuses[j].ok()) return ToAbsl(statuses[j]);
        const absl::string_view stored(values[j].data(), values[j].size());
        // Only complete tiles, which never change, are cached from reads; a
        // right-edge tile read here may already be older than the cache's.
        if (!IsCompleteTile(stored)) {
          tiles[missing_slots[j]] = std::make_shared<const std::string>(stored);
          continue;
        }
        absl::StatusOr<std::shared_ptr<const std::string>> tile =
            CachedForm(level_of_slot[missing_slots[j]], stored,
                       [&] { return ExpandTile(stored); });
        if (!tile.ok()) return tile.status();
        cache_->AddIfAbsent(tile_keys[missing_slots[j]], *tile);
        tiles[missing_slots[j]] = std::move(*tile);
      }
    }

    std::vector<std::string> out;
    out.reserve(ids.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      const std::shared_ptr<const std::string>& tile = tiles[slots[i]];
      if (!tile) {
        return absl::NotFoundError(absl::StrCat(
            "Merkle node ", ids[i].level, "/", ids[i].index, " not stored"));
      }
      absl::StatusOr<std::string> hash =
          ReadTileNode(*tile, addresses[i].row, addresses[i].pos);
      if (!hash.ok()) return hash.status();
      out.push_back(std::move(*hash));
    }
    return out;
  }

 private:
  Database* const db_;
  TileCache* const cache_;
  const int64_t tree_id_;
};

}  // namespace

absl::StatusOr<RocksLogStorage::TreeState*> RocksLogStorage::State(
    int64_t tree_id) {
  absl::MutexLock lock(&states_mu_);
  auto it = states_.find(tree_id);
  if (it != states_.end()) return it->second.get();
  auto state = std::make_unique<TreeState>();
  if (absl::Status s = Load(tree_id, *state); !s.ok()) return s;
  TreeState* raw = state.get();
  states_.emplace(tree_id, std::move(state));
  return raw;
}

absl::Status RocksLogStorage::Load(int64_t tree_id, TreeState& state) {
  absl::MutexLock lock(&state.mu);
  absl::StatusOr<std::optional<LatestRootRecord>> latest =
      ReadLatestRootRecord(*db_, tree_id);
  if (!latest.ok()) return latest.status();
  if (latest->has_value()) {
    state.root = std::move((*latest)->record.root);
    state.tree_size = (*latest)->record.tree_size;
    state.revision = (*latest)->revision;
  }

  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->log()));

  // Sequence numbers are never reused: identity records refer to them.
  const std::string moved_prefix = keys::Prefix(tree_id, keys::kQueueIndex);
  it->SeekForPrev(ToSlice(keys::QueueIndex(tree_id, kMaxUint64)));
  if (it->Valid() && HasPrefix(it->key(), moved_prefix)) {
    state.next_queue_seq = keys::TrailingUint64(View(it->key())) + 1;
  }
  // The queue: records of this version, and per-leaf ones of older ones.
  for (const char tag : {keys::kQueueRecord, keys::kQueue}) {
    const std::string prefix = keys::Prefix(tree_id, tag);
    for (it->Seek(ToSlice(prefix)); it->Valid() && HasPrefix(it->key(), prefix);
         it->Next()) {
      const uint64_t seq = keys::TrailingUint64(View(it->key()));
      QueuedBatch batch;
      batch.legacy = tag == keys::kQueue;
      if (batch.legacy) {
        batch.leaves.emplace_back();
        if (!batch.leaves.back().ParseFromArray(it->value().data(),
                                                it->value().size())) {
          return absl::DataLossError("queued leaf is corrupt");
        }
      } else {
        absl::StatusOr<std::vector<trillian::LogLeaf>> leaves =
            DecodeQueueRecord(View(it->value()));
        if (!leaves.ok()) return leaves.status();
        batch.leaves = std::move(*leaves);
      }
      state.next_queue_seq = std::max(state.next_queue_seq, seq + 1);
      for (const trillian::LogLeaf& leaf : batch.leaves) {
        state.queued_bytes += QueuedBytes(leaf);
      }
      state.queued_leaves += batch.leaves.size();
      state.queue.emplace(seq, std::move(batch));
    }
    if (!it->status().ok()) return ToAbsl(it->status());
  }
  // A record a crash left partly integrated: its leaves are contiguous from
  // the index its forwarding record names.
  for (auto& [seq, batch] : state.queue) {
    std::string forward;
    ::rocksdb::Status s =
        db_->db()->Get(::rocksdb::ReadOptions(), db_->log(),
                       keys::QueueIndex(tree_id, seq), &forward);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return ToAbsl(s);
    if (forward.size() != 8) return absl::DataLossError("corrupt queue index");
    const uint64_t first = keys::Uint64At(forward, 0);
    if (state.tree_size > first) {
      batch.consumed = static_cast<size_t>(
          std::min<uint64_t>(batch.leaves.size(), state.tree_size - first));
      for (size_t i = 0; i < batch.consumed; ++i) {
        state.queued_bytes -= QueuedBytes(batch.leaves[i]);
      }
      state.queued_leaves -= batch.consumed;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<trillian::SignedLogRoot>>
RocksLogStorage::LatestRoot(int64_t tree_id) {
  absl::StatusOr<TreeState*> state = State(tree_id);
  if (!state.ok()) return state.status();
  absl::MutexLock lock(&(*state)->mu);
  return (*state)->root;
}

absl::Status RocksLogStorage::InitRoot(int64_t tree_id,
                                       const trillian::SignedLogRoot& root) {
  absl::StatusOr<TreeState*> state = State(tree_id);
  if (!state.ok()) return state.status();
  absl::MutexLock lock(&(*state)->mu);
  if ((*state)->root.has_value()) {
    return absl::AlreadyExistsError("log is already initialised");
  }
  absl::Status s =
      ToAbsl(db_->db()->Put(db_->durable_write(), db_->log(),
                            keys::Root(tree_id, 0), EncodeRootRecord(0, root)));
  if (!s.ok()) return s;
  (*state)->root = root;
  (*state)->tree_size = 0;
  (*state)->revision = 0;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::optional<trillian::LogLeaf>>>
RocksLogStorage::ReadLeaves(int64_t tree_id,
                            absl::Span<const uint64_t> indices) {
  std::vector<uint64_t> bundles;
  bundles.reserve(indices.size());
  for (uint64_t index : indices) bundles.push_back(index / kLeavesPerBundle);
  std::sort(bundles.begin(), bundles.end());
  bundles.erase(std::unique(bundles.begin(), bundles.end()), bundles.end());

  // Each bundle with its sidecar and its level-0 tile (the leaves' Merkle
  // hashes), in one MultiGet so that all three are of the same moment.
  constexpr size_t kPerBundle = 3;
  std::vector<std::string> key_strings;
  key_strings.reserve(kPerBundle * bundles.size());
  for (uint64_t bundle : bundles) {
    key_strings.push_back(keys::Bundle(tree_id, bundle));
    key_strings.push_back(keys::Sidecar(tree_id, bundle));
    key_strings.push_back(keys::Tile(tree_id, 0, bundle));
  }
  // Both reads below see one moment: a leaf integrated in between must
  // not be missed in its record by the second after its bundle by the first.
  const SnapshotHolder snapshot(db_->db());
  ::rocksdb::ReadOptions read;
  read.snapshot = snapshot.get();
  std::vector<::rocksdb::Slice> key_slices(key_strings.begin(),
                                           key_strings.end());
  std::vector<::rocksdb::PinnableSlice> values(key_slices.size());
  std::vector<::rocksdb::Status> statuses(key_slices.size());
  db_->db()->MultiGet(read, db_->log(), key_slices.size(), key_slices.data(),
                      values.data(), statuses.data());
  std::vector<std::optional<LeafBundle>> decoded(bundles.size());
  for (size_t j = 0; j < bundles.size(); ++j) {
    const size_t k = kPerBundle * j;
    if (statuses[k].IsNotFound()) continue;
    for (size_t m = k; m < k + kPerBundle; ++m) {
      if (statuses[m].IsNotFound()) {
        return absl::DataLossError(absl::StrCat("entry bundle ", bundles[j],
                                                " of log ", tree_id,
                                                " lacks its sidecar or tile"));
      }
      if (!statuses[m].ok()) return ToAbsl(statuses[m]);
    }
    absl::StatusOr<LeafBundle> bundle =
        LeafBundle::Decode(values[k].ToString(), values[k + 1].ToString());
    if (!bundle.ok()) return bundle.status();
    decoded[j] = std::move(*bundle);
  }

  std::vector<std::optional<trillian::LogLeaf>> leaves(indices.size());
  std::vector<size_t> unbundled;  // In per-index records, if anywhere.
  std::vector<size_t> apart;      // In bundles, with long values apart.
  for (size_t i = 0; i < indices.size(); ++i) {
    const size_t j = std::lower_bound(bundles.begin(), bundles.end(),
                                      indices[i] / kLeavesPerBundle) -
                     bundles.begin();
    const size_t offset = indices[i] % kLeavesPerBundle;
    if (!decoded[j].has_value() || offset >= decoded[j]->size()) {
      unbundled.push_back(i);
      continue;
    }
    const ::rocksdb::PinnableSlice& tile = values[kPerBundle * j + 2];
    absl::StatusOr<std::string> hash =
        ReadTileNode(absl::string_view(tile.data(), tile.size()), 0, offset);
    if (!hash.ok()) {
      return absl::DataLossError(absl::StrCat("leaf ", indices[i], " of log ",
                                              tree_id, " has no Merkle hash"));
    }
    leaves[i] = decoded[j]->Leaf(offset, indices[i], *hash);
    if (decoded[j]->ValueApart(offset)) apart.push_back(i);
  }
  if (unbundled.empty() && apart.empty()) return leaves;

  key_strings.clear();
  for (size_t i : unbundled) {
    key_strings.push_back(keys::Leaf(tree_id, indices[i]));
  }
  for (size_t i : apart) {
    key_strings.push_back(keys::LongValue(tree_id, indices[i]));
  }
  key_slices.assign(key_strings.begin(), key_strings.end());
  values = std::vector<::rocksdb::PinnableSlice>(key_slices.size());
  statuses.assign(key_slices.size(), ::rocksdb::Status());
  db_->db()->MultiGet(read, db_->log(), key_slices.size(), key_slices.data(),
                      values.data(), statuses.data());
  for (size_t u = 0; u < unbundled.size(); ++u) {
    if (statuses[u].IsNotFound()) continue;
    if (!statuses[u].ok()) return ToAbsl(statuses[u]);
    trillian::LogLeaf leaf;
    if (!leaf.ParseFromArray(values[u].data(), values[u].size())) {
      return absl::DataLossError("stored leaf is corrupt");
    }
    leaves[unbundled[u]] = std::move(leaf);
  }
  for (size_t a = 0; a < apart.size(); ++a) {
    const size_t k = unbundled.size() + a;
    if (statuses[k].IsNotFound()) {
      return absl::DataLossError(absl::StrCat("the value of leaf ",
                                              indices[apart[a]], " of log ",
                                              tree_id, " is lost"));
    }
    if (!statuses[k].ok()) return ToAbsl(statuses[k]);
    leaves[apart[a]]->set_leaf_value(values[k].data(), values[k].size());
  }
  return leaves;
}

absl::StatusOr<std::optional<trillian::LogLeaf>> RocksLogStorage::ReadLeaf(
    int64_t tree_id, uint64_t index) {
  const uint64_t indices[] = {index};
  absl::StatusOr<std::vector<std::optional<trillian::LogLeaf>>> leaves =
      ReadLeaves(tree_id, indices);
  if (!leaves.ok()) return leaves.status();
  return std::move(leaves->front());
}

absl::StatusOr<RocksLogStorage::HeldEntry> RocksLogStorage::ResolvePosition(
    int64_t tree_id, const LeafPosition& position) {
  uint64_t index = position.n;
  if (position.kind != LeafPosition::Kind::kIndex) {
    const uint64_t seq = position.n;
    absl::StatusOr<TreeState*> state = State(tree_id);
    if (!state.ok()) return state.status();
    {
      // Still queued: the record leaves the queue only once integrated.
      absl::MutexLock lock(&(*state)->mu);
      auto it = (*state)->queue.find(seq);
      if (it != (*state)->queue.end() &&
          position.offset >= it->second.consumed &&
          position.offset < it->second.leaves.size()) {
        return HeldEntry{it->second.leaves[position.offset],
                         /*in_tree=*/false};
      }
    }
    // Integrated: the record's leaves follow the index 'm' names.
    std::string forward;
    ::rocksdb::Status s =
        db_->db()->Get(::rocksdb::ReadOptions(), db_->log(),
                       keys::QueueIndex(tree_id, seq), &forward);
    if (!s.ok() && !s.IsNotFound()) return ToAbsl(s);
    if (!s.ok() || forward.size() != 8) {
      return absl::DataLossError("identity record points at a lost leaf");
    }
    index = keys::Uint64At(forward, 0) + position.offset;
  }
  absl::StatusOr<std::optional<trillian::LogLeaf>> leaf =
      ReadLeaf(tree_id, index);
  if (!leaf.ok()) return leaf.status();
  if (!leaf->has_value()) {
    return absl::DataLossError("identity record points at a lost leaf");
  }
  return HeldEntry{std::move(**leaf), /*in_tree=*/true};
}

absl::StatusOr<RocksLogStorage::IdentityLookup> RocksLogStorage::LookupIdentity(
    int64_t tree_id, absl::string_view identity_hash) {
  const absl::string_view hashes[] = {identity_hash};
  const std::string record_keys[] = {keys::Identity(tree_id, identity_hash)};
  absl::StatusOr<std::vector<IdentityLookup>> lookups =
      LookupIdentities(tree_id, hashes, record_keys);
  if (!lookups.ok()) return lookups.status();
  return std::move(lookups->front());
}

absl::StatusOr<std::vector<RocksLogStorage::IdentityLookup>>
RocksLogStorage::LookupIdentities(
    int64_t tree_id, absl::Span<const absl::string_view> identity_hashes,
    absl::Span<const std::string> record_keys) {
  const size_t n = identity_hashes.size();
  if (record_keys.size() != n) {
    return absl::InternalError("one record key per identity expected");
  }
  std::vector<::rocksdb::Slice> slices(record_keys.begin(), record_keys.end());
  std::vector<::rocksdb::PinnableSlice> values(n);
  std::vector<::rocksdb::Status> statuses(n);
  db_->db()->MultiGet(::rocksdb::ReadOptions(), db_->index(), n, slices.data(),
                      values.data(), statuses.data());
  std::vector<IdentityLookup> lookups(n);
  for (size_t i = 0; i < n; ++i) {
    if (statuses[i].IsNotFound()) continue;
    if (!statuses[i].ok()) return ToAbsl(statuses[i]);
    IdentityLookup& lookup = lookups[i];
    lookup.record = values[i].ToString();
    absl::StatusOr<std::vector<LeafPosition>> positions =
        DecodePositions(lookup.record);
    if (!positions.ok()) return positions.status();
    // Other identities may give the same key: confirm the whole hash.
    for (const LeafPosition& position : *positions) {
      absl::StatusOr<HeldEntry> entry = ResolvePosition(tree_id, position);
      if (!entry.ok()) return entry.status();
      if (entry->leaf.leaf_identity_hash() == identity_hashes[i]) {
        lookup.held = std::move(*entry);
        break;
      }
    }
  }
  return lookups;
}

absl::StatusOr<std::optional<RocksLogStorage::HeldEntry>>
RocksLogStorage::HeldLeaf(int64_t tree_id, absl::string_view identity_hash) {
  absl::StatusOr<IdentityLookup> lookup =
      LookupIdentity(tree_id, identity_hash);
  if (!lookup.ok()) return lookup.status();
  return std::move(lookup->held);
}

absl::StatusOr<std::vector<QueueOutcome>> RocksLogStorage::QueueLeaves(
    int64_t tree_id, std::vector<trillian::LogLeaf> leaves) {
  if (leaves.size() > kMaxLeavesPerQueueRecord) {
    return absl::InvalidArgumentError(
        absl::StrCat("at most ", kMaxLeavesPerQueueRecord, " leaves per call"));
  }
  absl::StatusOr<TreeState*> state_or = State(tree_id);
  if (!state_or.ok()) return state_or.status();
  TreeState& state = **state_or;

  // Leaves whose identity already appeared earlier in this call point at
  // that first occurrence.
  std::vector<int> first_of(leaves.size(), -1);
  absl::flat_hash_map<absl::string_view, int> seen;
  // The first occurrences' identities and record keys; concurrent calls
  // must not write the same record keys at the same time.
  std::vector<size_t> firsts;
  std::vector<absl::string_view> first_hashes;
  std::vector<std::string> first_keys;
  for (size_t i = 0; i < leaves.size(); ++i) {
    auto [it, inserted] =
        seen.emplace(leaves[i].leaf_identity_hash(), static_cast<int>(i));
    if (inserted) {
      firsts.push_back(i);
      first_hashes.push_back(leaves[i].leaf_identity_hash());
      first_keys.push_back(
          keys::Identity(tree_id, leaves[i].leaf_identity_hash()));
    } else {
      first_of[i] = it->second;
    }
  }
  // Distinct identities may share a record key.
  absl::flat_hash_set<absl::string_view> record_keys(first_keys.begin(),
                                                     first_keys.end());

  size_t call_bytes = 0;
  for (const trillian::LogLeaf& leaf : leaves) call_bytes += QueuedBytes(leaf);
  uint64_t seq = 0;
  {
    absl::MutexLock lock(&state.mu);
    if (state.queued_bytes + call_bytes > max_queued_bytes_) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "log ", tree_id, " has ", state.queued_bytes,
          " bytes of leaves waiting for the sequencer; try again later"));
    }
    // Wait out concurrent calls that are writing one of our identity
    // records, so that we see their leaves as held and extend their
    // records rather than overwrite them.
    auto none_pending = [&]() ABSL_SHARED_LOCKS_REQUIRED(state.mu) {
      for (absl::string_view key : record_keys) {
        if (state.pending.contains(key)) return false;
      }
      return true;
    };
    state.mu.Await(absl::Condition(&none_pending));
    for (absl::string_view key : record_keys) {
      state.pending.emplace(key);
    }
    seq = state.next_queue_seq++;
    state.in_flight.insert(seq);
  }

  // The leaves not held yet go into one queue record.
  std::vector<QueueOutcome> outcomes(leaves.size());
  std::vector<trillian::LogLeaf> added;
  absl::Status status = [&]() -> absl::Status {
    absl::StatusOr<std::vector<IdentityLookup>> lookups =
        LookupIdentities(tree_id, first_hashes, first_keys);
    if (!lookups.ok()) return lookups.status();
    // Records in key order: consecutive inserts land near each other in
    // the memtable's skiplist, and with concurrent memtable writers the
    // per-batch hints start each from the previous one's place.
    std::map<absl::string_view, std::string> records;
    for (size_t f = 0; f < firsts.size(); ++f) {
      const size_t i = firsts[f];
      IdentityLookup& lookup = (*lookups)[f];
      if (lookup.held.has_value()) {
        outcomes[i].leaf = std::move(lookup.held->leaf);
        continue;
      }
      AppendPosition(
          {LeafPosition::Kind::kQueued, seq, added.size()},
          &records.try_emplace(first_keys[f], std::move(lookup.record))
               .first->second);
      outcomes[i].added = true;
      outcomes[i].leaf = leaves[i];
      added.push_back(std::move(leaves[i]));
    }
    if (added.empty()) return absl::OkStatus();
    ::rocksdb::WriteBatch batch;
    for (const auto& [key, record] : records) {
      batch.Put(db_->index(), ::rocksdb::Slice(key.data(), key.size()), record);
    }
    batch.Put(db_->log(), keys::QueueRecord(tree_id, seq),
              EncodeQueueRecord(added));
    size_t added_bytes = 0;
    for (const trillian::LogLeaf& leaf : added) {
      added_bytes += QueuedBytes(leaf);
    }
    {
      // Visible to lookups before its identity records are; the sequencer
      // does not read it while it is in flight.
      absl::MutexLock lock(&state.mu);
      state.queued_leaves += added.size();
      state.queue[seq].leaves = std::move(added);
      state.queued_bytes += added_bytes;
    }
    ::rocksdb::WriteOptions write = db_->durable_write();
    write.memtable_insert_hint_per_batch = true;
    absl::Status written = ToAbsl(db_->db()->Write(write, &batch));
    if (!written.ok()) {
      absl::MutexLock lock(&state.mu);
      state.queued_leaves -= state.queue[seq].leaves.size();
      state.queue.erase(seq);
      state.queued_bytes -= added_bytes;
    }
    return written;
  }();

  {
    absl::MutexLock lock(&state.mu);
    for (absl::string_view key : record_keys) state.pending.erase(key);
    state.in_flight.erase(seq);
  }
  if (!status.ok()) return status;
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (first_of[i] >= 0) outcomes[i].leaf = outcomes[first_of[i]].leaf;
  }
  return outcomes;
}

absl::StatusOr<std::vector<absl::Status>> RocksLogStorage::AddSequencedLeaves(
    int64_t tree_id, std::vector<trillian::LogLeaf> leaves,
    std::vector<trillian::LogLeaf>* held) {
  absl::StatusOr<TreeState*> state_or = State(tree_id);
  if (!state_or.ok()) return state_or.status();
  TreeState& state = **state_or;
  absl::MutexLock sequenced_lock(&state.sequenced_mu);

  held->assign(leaves.size(), trillian::LogLeaf());
  std::vector<absl::Status> results(leaves.size());
  absl::flat_hash_map<uint64_t, size_t> by_index;
  absl::flat_hash_map<std::string, size_t> by_identity;
  absl::flat_hash_map<std::string, std::string> records;
  ::rocksdb::WriteBatch batch;
  for (size_t i = 0; i < leaves.size(); ++i) {
    const trillian::LogLeaf& leaf = leaves[i];
    const uint64_t index = leaf.leaf_index();
    // A leaf already at this index: the same leaf again, or a conflict.
    std::optional<trillian::LogLeaf> at_index;
    if (auto it = by_index.find(index); it != by_index.end()) {
      at_index = leaves[it->second];
    } else {
      absl::StatusOr<std::optional<trillian::LogLeaf>> stored =
          ReadLeaf(tree_id, index);
      if (!stored.ok()) return stored.status();
      at_index = std::move(*stored);
    }
    if (at_index.has_value()) {
      const bool same =
          at_index->leaf_identity_hash() == leaf.leaf_identity_hash() &&
          at_index->leaf_value() == leaf.leaf_value();
      results[i] = same ? absl::AlreadyExistsError("leaf already exists")
                        : absl::FailedPreconditionError(
                              absl::StrCat("conflicting leaf index ", index));
      (*held)[i] = std::move(*at_index);
      continue;
    }
    std::optional<trillian::LogLeaf> same_identity;
    const std::string record_key =
        keys::Identity(tree_id, leaf.leaf_identity_hash());
    if (auto it = by_identity.find(leaf.leaf_identity_hash());
        it != by_identity.end()) {
      same_identity = leaves[it->second];
    } else {
      absl::StatusOr<IdentityLookup> lookup =
          LookupIdentity(tree_id, leaf.leaf_identity_hash());
      if (!lookup.ok()) return lookup.status();
      if (lookup->held.has_value()) {
        same_identity = std::move(lookup->held->leaf);
      } else {
        records.try_emplace(record_key, std::move(lookup->record));
      }
    }
    if (same_identity.has_value()) {
      results[i] = absl::FailedPreconditionError(
          absl::StrCat("conflicting leaf identity hash, held at index ",
                       same_identity->leaf_index()));
      (*held)[i] = std::move(*same_identity);
      continue;
    }
    batch.Put(db_->log(), keys::Leaf(tree_id, index), leaf.SerializeAsString());
    if (leaf.leaf_identity_hash() != leaf.merkle_leaf_hash()) {
      batch.Put(db_->index(),
                keys::HashIndex(tree_id, leaf.merkle_leaf_hash(), index), "");
    }
    AppendPosition({LeafPosition::Kind::kIndex, index}, &records[record_key]);
    by_index.emplace(index, i);
    by_identity.emplace(leaf.leaf_identity_hash(), i);
  }
  for (const auto& [key, record] : records) {
    if (!record.empty()) batch.Put(db_->index(), key, record);
  }
  if (batch.Count() > 0) {
    absl::Status s = ToAbsl(db_->db()->Write(db_->durable_write(), &batch));
    if (!s.ok()) return s;
  }
  return results;
}

absl::StatusOr<QueueDepth> RocksLogStorage::Queued(int64_t tree_id) {
  absl::StatusOr<TreeState*> state = State(tree_id);
  if (!state.ok()) return state.status();
  absl::MutexLock lock(&(*state)->mu);
  return QueueDepth{(*state)->queued_leaves, (*state)->queued_bytes};
}

absl::StatusOr<std::vector<QueuedEntry>> RocksLogStorage::PeekQueue(
    int64_t tree_id, size_t max) {
  absl::StatusOr<TreeState*> state_or = State(tree_id);
  if (!state_or.ok()) return state_or.status();
  TreeState& state = **state_or;
  std::vector<QueuedEntry> entries;
  absl::MutexLock lock(&state.mu);
  const uint64_t limit =
      state.in_flight.empty() ? state.next_queue_seq : *state.in_flight.begin();
  for (auto it = state.queue.begin();
       it != state.queue.end() && it->first < limit && entries.size() < max;
       ++it) {
    const QueuedBatch& batch = it->second;
    for (size_t offset = batch.consumed;
         offset < batch.leaves.size() && entries.size() < max; ++offset) {
      entries.push_back({Position(it->first, offset), batch.leaves[offset]});
    }
  }
  return entries;
}

absl::StatusOr<std::vector<trillian::LogLeaf>> RocksLogStorage::ScanLeafRecords(
    int64_t tree_id, uint64_t start, uint64_t end) {
  std::vector<trillian::LogLeaf> leaves;
  if (end <= start) return leaves;
  const std::string upper = keys::Leaf(tree_id, end);
  ::rocksdb::Slice upper_slice(upper);
  ::rocksdb::ReadOptions options;
  options.iterate_upper_bound = &upper_slice;
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(options, db_->log()));
  uint64_t next = start;
  for (it->Seek(keys::Leaf(tree_id, start)); it->Valid(); it->Next(), ++next) {
    if (keys::TrailingUint64(View(it->key())) != next) break;  // A gap.
    trillian::LogLeaf leaf;
    if (!leaf.ParseFromArray(it->value().data(), it->value().size())) {
      return absl::DataLossError("stored leaf is corrupt");
    }
    leaves.push_back(std::move(leaf));
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  return leaves;
}

absl::StatusOr<std::vector<trillian::LogLeaf>> RocksLogStorage::PeekSequenced(
    int64_t tree_id, uint64_t from, size_t max) {
  const uint64_t end = max > kMaxUint64 - from ? kMaxUint64 : from + max;
  return ScanLeafRecords(tree_id, from, end);
}

absl::StatusOr<bool> RocksLogStorage::HasUnintegratedLeaves(int64_t tree_id) {
  absl::StatusOr<TreeState*> state = State(tree_id);
  if (!state.ok()) return state.status();
  uint64_t size;
  {
    absl::MutexLock lock(&(*state)->mu);
    size = (*state)->tree_size;
  }
  const std::string prefix = keys::Prefix(tree_id, keys::kLeaf);
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->log()));
  it->Seek(keys::Leaf(tree_id, size));
  if (!it->status().ok()) return ToAbsl(it->status());
  return it->Valid() && HasPrefix(it->key(), prefix);
}

absl::Status RocksLogStorage::Integrate(int64_t tree_id,
                                        const IntegrationBatch& batch) {
  absl::StatusOr<TreeState*> state_or = State(tree_id);
  if (!state_or.ok()) return state_or.status();
  TreeState& state = **state_or;
  // Held to the end, so that the state checked here is the one written on.
  absl::MutexLock integrate_lock(&state.integrate_mu);
  {
    absl::MutexLock lock(&state.mu);
    if (!state.root.has_value()) {
      return absl::FailedPreconditionError("tree needs initialising");
    }
    if (batch.revision != state.revision + 1 ||
        batch.tree_size != state.tree_size + batch.leaves.size()) {
      return absl::FailedPreconditionError(
          absl::StrCat("integration does not follow revision ", state.revision,
                       " size ", state.tree_size));
    }
  }

  ::rocksdb::WriteBatch wb;
  const bool from_queue = !batch.consumed_queue_seqs.empty();
  if (from_queue && batch.consumed_queue_seqs.size() != batch.leaves.size()) {
    return absl::InternalError("one queue entry per integrated leaf expected");
  }
  // Each consumed record's size and kind, to write its 'm' with its first
  // leaf and delete it with its last.
  // Leaves must be taken from the front of the queue, in order: 'm' and
  // Load rely on each record's integrated leaves being a prefix of it.
  absl::flat_hash_map<uint64_t, std::pair<size_t, bool>> records;
  if (from_queue) {
    absl::MutexLock lock(&state.mu);
    absl::flat_hash_map<uint64_t, size_t> next;
    for (uint64_t position : batch.consumed_queue_seqs) {
      auto it = state.queue.find(SeqOf(position));
      if (it == state.queue.end()) {
        return absl::InternalError("integrating a leaf that is not queued");
      }
      size_t& expected =
          next.try_emplace(it->first, it->second.consumed).first->second;
      if (OffsetOf(position) != expected++ ||
          OffsetOf(position) >= it->second.leaves.size()) {
        return absl::InternalError("queued leaves integrated out of order");
      }
      records.emplace(it->first, std::make_pair(it->second.leaves.size(),
                                                it->second.legacy));
    }
  }
  // The identity record of a queued leaf keeps its queue position and the
  // record's 'm' forwards it to the index, so for leaves with the default
  // identity only keys that grow with the tree or the queue are written.
  absl::StatusOr<std::optional<std::pair<uint64_t, LeafBundle>>> edge =
      AppendToBundles(tree_id, state, batch.tree_size - batch.leaves.size(),
                      batch.leaves, wb);
  if (!edge.ok()) return edge.status();
  for (size_t i = 0; i < batch.leaves.size(); ++i) {
    const trillian::LogLeaf& leaf = batch.leaves[i];
    const uint64_t index = leaf.leaf_index();
    if (!from_queue) {
      // PREORDERED_LOG: indexed when added; now in its bundle.
      wb.Delete(db_->log(), keys::Leaf(tree_id, index));
      continue;
    }
    const uint64_t seq = SeqOf(batch.consumed_queue_seqs[i]);
    const uint64_t offset = OffsetOf(batch.consumed_queue_seqs[i]);
    const auto [size, legacy] = records.at(seq);
    if (offset == 0) {
      std::string index_bytes;
      PutUint(index_bytes, index, 8);
      wb.Put(db_->log(), keys::QueueIndex(tree_id, seq), index_bytes);
    }
    if (offset + 1 == size) {
      // Queue records are written once and deleted once: SingleDelete lets
      // a flush drop both instead of carrying a tombstone down the levels.
      wb.SingleDelete(db_->log(), legacy ? keys::Queue(tree_id, seq)
                                         : keys::QueueRecord(tree_id, seq));
    }
    if (leaf.leaf_identity_hash() != leaf.merkle_leaf_hash()) {
      wb.Put(db_->index(),
             keys::HashIndex(tree_id, leaf.merkle_leaf_hash(), index), "");
    }
  }

  // Extend the right-edge tiles with the new nodes.
  std::map<std::string, std::pair<uint32_t, Tile>> tiles;  // Level, tile.
  for (const auto& [id, hash] : batch.nodes) {
    const TileAddress a = Locate(id);
    std::string key = keys::Tile(tree_id, a.tile_level, a.tile_index);
    auto it = tiles.find(key);
    if (it == tiles.end()) {
      std::shared_ptr<const std::string> encoded = tile_cache_.Get(key);
      if (!encoded) {
        std::string stored;
        ::rocksdb::Status s =
            db_->db()->Get(::rocksdb::ReadOptions(), db_->log(), key, &stored);
        if (!s.ok() && !s.IsNotFound()) return ToAbsl(s);
        if (s.ok())
          encoded = std::make_shared<const std::string>(std::move(stored));
      }
      Tile tile;
      if (encoded) {
        absl::StatusOr<Tile> decoded = Tile::Decode(*encoded);
        if (!decoded.ok()) return decoded.status();
        tile = std::move(*decoded);
      }
      it = tiles
               .emplace(std::move(key),
                        std::make_pair(a.tile_level, std::move(tile)))
               .first;
    }
    if (absl::Status s = it->second.second.Append(a.row, a.pos, hash);
        !s.ok()) {
      return s;
    }
  }
  std::vector<std::pair<std::string, std::shared_ptr<const std::string>>>
      written_tiles;
  for (const auto& [key, level_and_tile] : tiles) {
    const Tile& tile = level_and_tile.second;
    absl::StatusOr<std::string> encoded = tile.Encode();
    if (!encoded.ok()) return encoded.status();
    absl::StatusOr<std::shared_ptr<const std::string>> cached = CachedForm(
        level_and_tile.first, *encoded, [&tile] { return tile.Expand(); });
    if (!cached.ok()) return cached.status();
    if (absl::Status s = ToAbsl(wb.Put(db_->log(), key, *encoded)); !s.ok()) {
      return s;
    }
    written_tiles.emplace_back(key, std::move(*cached));
  }
  wb.Put(db_->log(), keys::Root(tree_id, batch.revision),
         EncodeRootRecord(batch.tree_size, batch.root));

  absl::Status s = ToAbsl(db_->db()->Write(db_->durable_write(), &wb));
  if (!s.ok()) return s;
  state.edge_bundle = std::move(*edge);
  // Refresh the cached tiles before the new root becomes visible.
  for (auto& [key, tile] : written_tiles)
    tile_cache_.Replace(key, std::move(tile));
  absl::MutexLock lock(&state.mu);
  state.root = batch.root;
  state.tree_size = batch.tree_size;
  state.revision = batch.revision;
  for (uint64_t position : batch.consumed_queue_seqs) {
    auto it = state.queue.find(SeqOf(position));
    if (it == state.queue.end()) continue;
    state.queued_bytes -= QueuedBytes(it->second.leaves[OffsetOf(position)]);
    --state.queued_leaves;
    it->second.consumed = OffsetOf(position) + 1;
    if (it->second.consumed == it->second.leaves.size()) state.queue.erase(it);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::pair<uint64_t, LeafBundle>>>
RocksLogStorage::AppendToBundles(int64_t tree_id, TreeState& state,
                                 uint64_t tree_size,
                                 const std::vector<trillian::LogLeaf>& leaves,
                                 ::rocksdb::WriteBatch& wb) {
  if (leaves.empty()) return state.edge_bundle;
  uint64_t bundle_index = tree_size / kLeavesPerBundle;
  const size_t held = tree_size % kLeavesPerBundle;
  LeafBundle bundle;
  if (held > 0) {
    if (state.edge_bundle.has_value() &&
        state.edge_bundle->first == bundle_index) {
      bundle = state.edge_bundle->second;
    } else {
      std::string entries, sidecar;
      for (auto [key, value] :
           {std::make_pair(keys::Bundle(tree_id, bundle_index), &entries),
            std::make_pair(keys::Sidecar(tree_id, bundle_index), &sidecar)}) {
        ::rocksdb::Status s =
            db_->db()->Get(::rocksdb::ReadOptions(), db_->log(), key, value);
        if (!s.ok() && !s.IsNotFound()) return ToAbsl(s);
      }
      absl::StatusOr<LeafBundle> stored =
          LeafBundle::Decode(std::move(entries), std::move(sidecar));
      if (!stored.ok()) return stored.status();
      bundle = std::move(*stored);
    }
    if (bundle.size() != held) {
      return absl::DataLossError(absl::StrCat(
          "entry bundle ", bundle_index, " of log ", tree_id, " holds ",
          bundle.size(), " leaves; the tree's size says ", held));
    }
  }
  for (size_t i = 0; i < leaves.size(); ++i) {
    if (static_cast<uint64_t>(leaves[i].leaf_index()) != tree_size + i) {
      return absl::InternalError(absl::StrCat(
          "leaf ", leaves[i].leaf_index(), " integrated at ", tree_size + i));
    }
    if (bundle.full()) {
      if (absl::Status s =
              PutBundle(bundle, bundle_index, tree_id, db_->log(), wb);
          !s.ok()) {
        return s;
      }
      ++bundle_index;
      bundle = LeafBundle();
    }
    if (absl::Status s = AppendLeaf(leaves[i], tree_size + i, tree_id,
                                    db_->log(), bundle, wb);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = PutBundle(bundle, bundle_index, tree_id, db_->log(), wb);
      !s.ok()) {
    return s;
  }
  if (bundle.full()) return std::nullopt;
  return std::make_pair(bundle_index, std::move(bundle));
}

absl::StatusOr<std::vector<trillian::LogLeaf>>
RocksLogStorage::GetLeavesByIndex(int64_t tree_id,
                                  absl::Span<const int64_t> indices) {
  const std::vector<uint64_t> wanted(indices.begin(), indices.end());
  absl::StatusOr<std::vector<std::optional<trillian::LogLeaf>>> found =
      ReadLeaves(tree_id, wanted);
  if (!found.ok()) return found.status();
  std::vector<trillian::LogLeaf> leaves;
  leaves.reserve(found->size());
  for (size_t i = 0; i < found->size(); ++i) {
    if (!(*found)[i].has_value()) {
      return absl::NotFoundError(
          absl::StrCat("leaf ", indices[i], " not stored"));
    }
    leaves.push_back(std::move(*(*found)[i]));
  }
  return leaves;
}

absl::StatusOr<std::vector<trillian::LogLeaf>>
RocksLogStorage::GetLeavesByRange(int64_t tree_id, uint64_t start,
                                  uint64_t count, uint64_t limit) {
  const uint64_t end =
      start + std::min(count, limit > start ? limit - start : 0);
  std::vector<uint64_t> indices;
  for (uint64_t index = start; index < end; ++index) indices.push_back(index);
  absl::StatusOr<std::vector<std::optional<trillian::LogLeaf>>> found =
      ReadLeaves(tree_id, indices);
  if (!found.ok()) return found.status();
  std::vector<trillian::LogLeaf> leaves;
  for (std::optional<trillian::LogLeaf>& leaf : *found) {
    if (!leaf.has_value()) break;  // A gap.
    leaves.push_back(std::move(*leaf));
  }
  return leaves;
}

absl::StatusOr<std::vector<uint64_t>> RocksLogStorage::IndicesByHash(
    int64_t tree_id, absl::string_view merkle_leaf_hash) {
  std::vector<uint64_t> indices;
  // Leaves whose identity is their Merkle hash (the default) are found
  // through the identity record...
  absl::StatusOr<std::optional<HeldEntry>> by_identity =
      HeldLeaf(tree_id, merkle_leaf_hash);
  if (!by_identity.ok()) return by_identity.status();
  if (by_identity->has_value() && (*by_identity)->in_tree &&
      (*by_identity)->leaf.merkle_leaf_hash() == merkle_leaf_hash) {
    indices.push_back((*by_identity)->leaf.leaf_index());
  }
  // ...the others through the hash index.
  std::string prefix = keys::Prefix(tree_id, keys::kHashIndex);
  prefix.append(merkle_leaf_hash.data(), merkle_leaf_hash.size());
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->index()));
  for (it->Seek(prefix); it->Valid() && HasPrefix(it->key(), prefix);
       it->Next()) {
    if (it->key().size() != prefix.size() + 8) continue;
    indices.push_back(keys::TrailingUint64(View(it->key())));
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  std::sort(indices.begin(), indices.end());
  indices.erase(std::unique(indices.begin(), indices.end()), indices.end());
  return indices;
}

std::unique_ptr<merkle::NodeReader> RocksLogStorage::NodeReader(
    int64_t tree_id) {
  return std::make_unique<TileNodeReader>(db_, &tile_cache_, tree_id);
}

absl::StatusOr<std::optional<StoredCheckpoint>>
RocksLogStorage::LatestCheckpoint(int64_t tree_id) {
  std::string value;
  ::rocksdb::Status s = db_->db()->Get(::rocksdb::ReadOptions(), db_->log(),
                                       keys::Checkpoint(tree_id), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return ToAbsl(s);
  // u64 size, then the note.
  if (value.size() < 8) {
    return absl::DataLossError(
        absl::StrCat("checkpoint record of tree ", tree_id, " is corrupt"));
  }
  StoredCheckpoint checkpoint;
  checkpoint.size = keys::TrailingUint64(absl::string_view(value).substr(0, 8));
  checkpoint.note = value.substr(8);
  return checkpoint;
}

absl::Status RocksLogStorage::PutCheckpoint(
    int64_t tree_id, const StoredCheckpoint& checkpoint) {
  absl::MutexLock lock(&checkpoint_mu_);
  absl::StatusOr<std::optional<StoredCheckpoint>> latest =
      LatestCheckpoint(tree_id);
  if (!latest.ok()) return latest.status();
  if (latest->has_value() && (*latest)->size > checkpoint.size) {
    return absl::FailedPreconditionError(
        absl::StrCat("tree ", tree_id, " already has a checkpoint for ",
                     (*latest)->size, " leaves, more than ", checkpoint.size));
  }
  std::string value;
  PutUint(value, checkpoint.size, 8);
  value += checkpoint.note;
  return ToAbsl(db_->db()->Put(db_->durable_write(), db_->log(),
                               keys::Checkpoint(tree_id), value));
}

absl::StatusOr<std::string> RocksLogStorage::ReadTile(int64_t tree_id,
                                                      uint32_t tile_level,
                                                      uint64_t tile_index,
                                                      uint32_t width) {
  ::rocksdb::PinnableSlice value;
  ::rocksdb::Status s =
      db_->db()->Get(::rocksdb::ReadOptions(), db_->log(),
                     keys::Tile(tree_id, tile_level, tile_index), &value);
  if (s.IsNotFound()) return absl::NotFoundError("no such tile");
  if (!s.ok()) return ToAbsl(s);
  absl::StatusOr<absl::string_view> row =
      TileRowPrefix(absl::string_view(value.data(), value.size()), width);
  if (!row.ok()) return row.status();
  return std::string(*row);
}

absl::StatusOr<std::string> RocksLogStorage::ReadEntryBundle(
    int64_t tree_id, uint64_t bundle_index, uint32_t width) {
  if (width == 0 || width > kLeavesPerBundle) {
    return absl::NotFoundError("no such entry bundle");
  }
  const std::string key_strings[] = {keys::Bundle(tree_id, bundle_index),
                                     keys::Sidecar(tree_id, bundle_index)};
  const ::rocksdb::Slice key_slices[] = {key_strings[0], key_strings[1]};
  ::rocksdb::PinnableSlice values[2];
  ::rocksdb::Status statuses[2];
  db_->db()->MultiGet(::rocksdb::ReadOptions(), db_->log(), 2, key_slices,
                      values, statuses);
  for (const ::rocksdb::Status& s : statuses) {
    if (s.IsNotFound()) return absl::NotFoundError("bundle not stored");
    if (!s.ok()) return ToAbsl(s);
  }
  absl::StatusOr<LeafBundle> bundle =
      LeafBundle::Decode(values[0].ToString(), values[1].ToString());
  if (!bundle.ok()) return bundle.status();
  absl::StatusOr<absl::string_view> entries = bundle->EntriesPrefix(width);
  if (!entries.ok()) return entries.status();
  return std::string(*entries);
}

}  // namespace trellis::storage::rocksdb
