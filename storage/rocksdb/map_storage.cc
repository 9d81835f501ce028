#include "storage/rocksdb/map_storage.h"

#include "absl/strings/str_cat.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/keys.h"
#include "util/tls_codec.h"

namespace trellis::storage::rocksdb {
namespace {

constexpr char kRevision = 'r';
constexpr char kTile = 't';
constexpr char kLeaf = 'v';
constexpr char kOutbox = 'o';

std::string OutboxKey(int64_t tree_id, int64_t revision) {
  std::string key = keys::Prefix(tree_id, kOutbox);
  PutUint(key, static_cast<uint64_t>(revision), 8);
  return key;
}

std::string RevisionKey(int64_t tree_id, int64_t revision) {
  std::string key = keys::Prefix(tree_id, kRevision);
  PutUint(key, static_cast<uint64_t>(revision), 8);
  return key;
}

std::string TilePrefix(int64_t tree_id, const merkle::smt::TileId& id) {
  std::string key = keys::Prefix(tree_id, kTile);
  PutUint(key, id.depth, 1);
  key += id.prefix;
  return key;
}

std::string LeafPrefix(int64_t tree_id, absl::string_view index) {
  std::string key = keys::Prefix(tree_id, kLeaf);
  key.append(index.data(), index.size());
  return key;
}

// Appends the version suffix: newer revisions sort first.
std::string Versioned(std::string prefix, int64_t revision) {
  PutUint(prefix, ~static_cast<uint64_t>(revision), 8);
  return prefix;
}

std::string EncodeRevision(const MapRevision& r) {
  std::string out;
  const std::string root = r.root.SerializeAsString();
  PutUint(out, root.size(), 4);
  out += root;
  out += merkle::smt::EncodeNodeEntry(r.root_node);
  return out;
}

absl::StatusOr<MapRevision> DecodeRevision(int64_t revision,
                                           absl::string_view bytes) {
  TlsReader reader(bytes);
  const std::string root = reader.ReadOpaque(4);
  MapRevision r;
  r.revision = revision;
  if (!reader.ok() || !r.root.ParseFromString(root)) {
    return absl::DataLossError("corrupt map revision record");
  }
  const size_t node_offset = 4 + root.size();
  absl::StatusOr<merkle::smt::NodeEntry> node =
      merkle::smt::DecodeNodeEntry(bytes.substr(node_offset));
  if (!node.ok()) return node.status();
  r.root_node = std::move(*node);
  return r;
}

absl::string_view View(const ::rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

// Where the newest version of a versioned record is: <tree> 'p' <record
// prefix without the tree id> -> the revision that wrote it.
std::string PointerKey(const std::string& prefix) {
  return absl::StrCat(prefix.substr(0, 8), "p", prefix.substr(8));
}

// Reads versioned records of one map as of a revision. The latest-version
// pointer turns most reads into point lookups (bloom-filtered; a never-set
// record costs one miss); only reads of a record rewritten after the
// revision need an iterator.
class VersionedReader {
 public:
  VersionedReader(Database* db, int64_t revision)
      : db_(db), revision_(revision) {}

  // The key of the newest version under `prefix` at or before the revision.
  absl::StatusOr<std::optional<std::string>> ResolveKey(
      const std::string& prefix) {
    std::string latest;
    ::rocksdb::Status s = db_->db()->Get(::rocksdb::ReadOptions(), db_->map(),
                                         PointerKey(prefix), &latest);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) return ToAbsl(s);
    if (latest.size() != 8) return absl::DataLossError("corrupt map pointer");
    const int64_t newest = static_cast<int64_t>(keys::Uint64At(latest, 0));
    if (newest <= revision_) return Versioned(prefix, newest);
    if (!it_) {
      it_.reset(db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->map()));
    }
    it_->Seek(Versioned(prefix, revision_));
    if (!it_->status().ok()) return ToAbsl(it_->status());
    if (!it_->Valid() || it_->key().size() != prefix.size() + 8 ||
        !it_->key().starts_with(prefix)) {
      return std::nullopt;
    }
    return it_->key().ToString();
  }

  absl::StatusOr<std::string> Value(const std::string& key) {
    std::string value;
    ::rocksdb::Status s =
        db_->db()->Get(::rocksdb::ReadOptions(), db_->map(), key, &value);
    if (s.IsNotFound()) return absl::DataLossError("map record version lost");
    if (!s.ok()) return ToAbsl(s);
    return value;
  }

  // ResolveKey then Value.
  absl::StatusOr<std::optional<std::string>> Read(const std::string& prefix) {
    absl::StatusOr<std::optional<std::string>> key = ResolveKey(prefix);
    if (!key.ok() || !key->has_value()) return key;
    absl::StatusOr<std::string> value = Value(**key);
    if (!value.ok()) return value.status();
    return std::move(*value);
  }

 private:
  Database* const db_;
  const int64_t revision_;
  std::unique_ptr<::rocksdb::Iterator> it_;
};

class RocksTileReader : public merkle::smt::TileReader {
 public:
  RocksTileReader(Database* db, RocksMapStorage::TileCaches* caches,
                  int64_t tree_id, int64_t revision)
      : reader_(db, revision),
        caches_(caches),
        tree_id_(tree_id),
        revision_(revision) {}

  absl::StatusOr<std::shared_ptr<const merkle::smt::Tile>> ReadTile(
      const merkle::smt::TileId& id) override {
    const std::string prefix = TilePrefix(tree_id_, id);
    // The newest version, as the writer left it, if not newer than we want.
    if (auto current = caches_->current.Get(prefix);
        current != nullptr && current->revision <= revision_) {
      return std::shared_ptr<const merkle::smt::Tile>(current, &current->tile);
    }
    absl::StatusOr<std::optional<std::string>> key = reader_.ResolveKey(prefix);
    if (!key.ok()) return key.status();
    if (!key->has_value()) return nullptr;
    // A stored version never changes: cache it decoded, by its full key.
    if (std::shared_ptr<const merkle::smt::Tile> cached =
            caches_->versions.Get(**key)) {
      return cached;
    }
    absl::StatusOr<std::string> bytes = reader_.Value(**key);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<merkle::smt::Tile> tile =
        merkle::smt::Tile::Parse(std::move(*bytes));
    if (!tile.ok()) return tile.status();
    auto shared = std::make_shared<const merkle::smt::Tile>(std::move(*tile));
    caches_->versions.Put(**key, shared, shared->MemoryUsage(),
                          /*replace=*/false);
    return shared;
  }

 private:
  VersionedReader reader_;
  RocksMapStorage::TileCaches* const caches_;
  const int64_t tree_id_;
  const int64_t revision_;
};

}  // namespace

absl::StatusOr<std::optional<MapRevision>> RocksMapStorage::LatestRevision(
    int64_t tree_id) {
  {
    absl::MutexLock lock(&mu_);
    auto it = latest_.find(tree_id);
    if (it != latest_.end()) return it->second;
  }
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->map()));
  it->SeekForPrev(RevisionKey(tree_id, INT64_MAX));
  if (!it->status().ok()) return ToAbsl(it->status());
  std::optional<MapRevision> latest;
  const std::string prefix = keys::Prefix(tree_id, kRevision);
  if (it->Valid() && it->key().starts_with(prefix)) {
    absl::StatusOr<MapRevision> r = DecodeRevision(
        static_cast<int64_t>(keys::TrailingUint64(View(it->key()))),
        View(it->value()));
    if (!r.ok()) return r.status();
    latest = std::move(*r);
  }
  absl::MutexLock lock(&mu_);
  // A concurrent writer's newer revision wins.
  return latest_.try_emplace(tree_id, std::move(latest)).first->second;
}

absl::StatusOr<std::optional<MapRevision>> RocksMapStorage::Revision(
    int64_t tree_id, int64_t revision) {
  {
    absl::MutexLock lock(&mu_);
    auto it = latest_.find(tree_id);
    if (it != latest_.end() && it->second.has_value() &&
        it->second->revision == revision) {
      return it->second;  // The latest, the one most reads ask for.
    }
  }
  std::string value;
  ::rocksdb::Status s = db_->db()->Get(::rocksdb::ReadOptions(), db_->map(),
                                       RevisionKey(tree_id, revision), &value);
  if (s.IsNotFound()) return std::nullopt;
  if (!s.ok()) return ToAbsl(s);
  absl::StatusOr<MapRevision> r = DecodeRevision(revision, value);
  if (!r.ok()) return r.status();
  return std::move(*r);
}

absl::StatusOr<std::vector<OutboxEntry>> RocksMapStorage::Outbox(
    int64_t tree_id) {
  const std::string prefix = keys::Prefix(tree_id, kOutbox);
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->map()));
  std::vector<OutboxEntry> entries;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix);
       it->Next()) {
    const absl::string_view key(it->key().data(), it->key().size());
    const absl::string_view value(it->value().data(), it->value().size());
    if (key.size() != prefix.size() + 8 || value.size() < 8) {
      return absl::DataLossError("corrupt map outbox entry");
    }
    OutboxEntry entry;
    entry.revision = static_cast<int64_t>(keys::TrailingUint64(key));
    entry.log_id = static_cast<int64_t>(keys::Uint64At(value, 0));
    entry.record = std::string(value.substr(8));
    entries.push_back(std::move(entry));
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  return entries;
}

absl::Status RocksMapStorage::DeleteOutbox(int64_t tree_id, int64_t revision) {
  return ToAbsl(db_->db()->Delete(db_->durable_write(), db_->map(),
                                  OutboxKey(tree_id, revision)));
}

absl::Status RocksMapStorage::WriteRevision(int64_t tree_id,
                                            const MapRevisionWrite& write) {
  absl::StatusOr<std::optional<MapRevision>> latest = LatestRevision(tree_id);
  if (!latest.ok()) return latest.status();
  const int64_t expected = latest->has_value() ? (*latest)->revision + 1 : 0;
  const int64_t revision = write.revision.revision;
  if (revision != expected) {
    return absl::FailedPreconditionError(
        absl::StrCat("map revision ", revision, " does not follow the latest (",
                     expected - 1, ")"));
  }
  ::rocksdb::WriteBatch batch;
  std::string pointer;
  PutUint(pointer, static_cast<uint64_t>(revision), 8);
  auto put = [&](const std::string& prefix, const std::string& value) {
    batch.Put(db_->map(), Versioned(prefix, revision), value);
    batch.Put(db_->map(), PointerKey(prefix), pointer);
  };
  for (const auto& [id, tile] : write.tiles) {
    put(TilePrefix(tree_id, id), tile.bytes());
  }
  for (const trillian::MapLeaf& leaf : write.leaves) {
    put(LeafPrefix(tree_id, leaf.index()), leaf.SerializeAsString());
  }
  batch.Put(db_->map(), RevisionKey(tree_id, revision),
            EncodeRevision(write.revision));
  if (write.outbox.has_value()) {
    std::string value;
    PutUint(value, static_cast<uint64_t>(write.outbox->log_id), 8);
    value += write.outbox->record;
    batch.Put(db_->map(), OutboxKey(tree_id, write.outbox->revision), value);
  }
  absl::Status s = ToAbsl(db_->db()->Write(db_->durable_write(), &batch));
  if (!s.ok()) return s;
  // Only the writer fills the newest-version cache, before the revision is
  // published, so no reader finds an entry older than the newest.
  for (const auto& [id, tile] : write.tiles) {
    auto current =
        std::make_shared<const CurrentTile>(CurrentTile{revision, tile});
    caches_.current.Put(TilePrefix(tree_id, id), std::move(current),
                        tile.MemoryUsage(), /*replace=*/true);
  }
  absl::MutexLock lock(&mu_);
  latest_.insert_or_assign(tree_id, write.revision);
  return absl::OkStatus();
}

std::unique_ptr<merkle::smt::TileReader> RocksMapStorage::TilesAt(
    int64_t tree_id, int64_t revision) {
  return std::make_unique<RocksTileReader>(db_, &caches_, tree_id, revision);
}

absl::StatusOr<std::vector<std::optional<trillian::MapLeaf>>>
RocksMapStorage::GetLeaves(int64_t tree_id, int64_t revision,
                           absl::Span<const std::string> indices) {
  VersionedReader reader(db_, revision);
  std::vector<std::optional<trillian::MapLeaf>> leaves;
  leaves.reserve(indices.size());
  for (const std::string& index : indices) {
    absl::StatusOr<std::optional<std::string>> bytes =
        reader.Read(LeafPrefix(tree_id, index));
    if (!bytes.ok()) return bytes.status();
    if (!bytes->has_value()) {
      leaves.emplace_back();
      continue;
    }
    trillian::MapLeaf leaf;
    if (!leaf.ParseFromString(**bytes)) {
      return absl::DataLossError("corrupt map leaf");
    }
    leaves.push_back(std::move(leaf));
  }
  return leaves;
}

absl::StatusOr<std::optional<trillian::MapLeaf>> RocksMapStorage::LastInRange(
    int64_t tree_id, int64_t revision, const std::string& low,
    const std::string& high) {
  const std::string lower = LeafPrefix(tree_id, low);
  VersionedReader versions(db_, revision);
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->map()));
  // Walk indices downwards from `high`; the first one set at or before the
  // revision is the answer.
  it->SeekForPrev(Versioned(LeafPrefix(tree_id, high), 0));
  while (it->Valid() && it->key().compare(lower) >= 0 &&
         it->key().size() == lower.size() + 8 &&
         it->key().starts_with(keys::Prefix(tree_id, kLeaf))) {
    const std::string prefix = it->key().ToString().substr(0, lower.size());
    absl::StatusOr<std::optional<std::string>> bytes = versions.Read(prefix);
    if (!bytes.ok()) return bytes.status();
    if (bytes->has_value()) {
      trillian::MapLeaf leaf;
      if (!leaf.ParseFromString(**bytes)) {
        return absl::DataLossError("corrupt map leaf");
      }
      return leaf;
    }
    it->SeekForPrev(prefix);  // Before every version of this index.
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  return std::nullopt;
}

}  // namespace trellis::storage::rocksdb
