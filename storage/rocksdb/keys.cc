#include "storage/rocksdb/keys.h"

#include "merkle/hasher.h"
#include "storage/rocksdb/identity_record.h"
#include "util/tls_codec.h"

namespace trellis::storage::rocksdb::keys {

std::string Tree(int64_t tree_id) {
  std::string key;
  PutUint(key, static_cast<uint64_t>(tree_id), 8);
  return key;
}

std::string Prefix(int64_t tree_id, char tag) {
  std::string key = Tree(tree_id);
  key.push_back(tag);
  return key;
}

namespace {

// <tree> <tag> <n as 8 bytes big-endian>.
std::string Numbered(int64_t tree_id, char tag, uint64_t n) {
  std::string key = Prefix(tree_id, tag);
  PutUint(key, n, 8);
  return key;
}

}  // namespace

std::string PrivateKey(int64_t tree_id) { return Prefix(tree_id, kPrivateKey); }

std::string NoteKey(int64_t tree_id) { return Prefix(tree_id, kNoteKey); }

std::string Checkpoint(int64_t tree_id) { return Prefix(tree_id, kCheckpoint); }

std::string Root(int64_t tree_id, uint64_t revision) {
  return Numbered(tree_id, kRoot, revision);
}

std::string Leaf(int64_t tree_id, uint64_t index) {
  return Numbered(tree_id, kLeaf, index);
}

std::string HashIndex(int64_t tree_id, absl::string_view hash, uint64_t index) {
  std::string key = Prefix(tree_id, kHashIndex);
  key.append(hash.data(), hash.size());
  PutUint(key, index, 8);
  return key;
}

std::string Identity(int64_t tree_id, absl::string_view identity_hash) {
  // Hashed again, so that callers who choose their identity hashes (logs
  // accept any 32 bytes) cannot choose many that share a key.
  const std::string digest = merkle::Sha256(identity_hash);
  return Prefix(tree_id, kIdentity) + digest.substr(0, kIdentityKeyBytes);
}

std::string Queue(int64_t tree_id, uint64_t seq) {
  return Numbered(tree_id, kQueue, seq);
}

std::string QueueIndex(int64_t tree_id, uint64_t seq) {
  return Numbered(tree_id, kQueueIndex, seq);
}

std::string QueueRecord(int64_t tree_id, uint64_t seq) {
  return Numbered(tree_id, kQueueRecord, seq);
}

std::string Tile(int64_t tree_id, uint32_t tile_level, uint64_t tile_index) {
  std::string key = Prefix(tree_id, kTile);
  PutUint(key, tile_level, 1);
  PutUint(key, tile_index, 8);
  return key;
}

std::string Bundle(int64_t tree_id, uint64_t bundle_index) {
  return Numbered(tree_id, kBundle, bundle_index);
}

std::string Sidecar(int64_t tree_id, uint64_t bundle_index) {
  return Numbered(tree_id, kSidecar, bundle_index);
}

std::string LongValue(int64_t tree_id, uint64_t index) {
  return Numbered(tree_id, kLongValue, index);
}

uint64_t Uint64At(absl::string_view data, size_t offset) {
  TlsReader reader(data.substr(offset, 8));
  return reader.ReadUint(8);
}

uint64_t TrailingUint64(absl::string_view key) {
  return key.size() < 8 ? 0 : Uint64At(key, key.size() - 8);
}

}  // namespace trellis::storage::rocksdb::keys
