#include "storage/rocksdb/tree_storage.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "rocksdb/write_batch.h"
#include "storage/rocksdb/keys.h"

namespace trellis::storage::rocksdb {
namespace {

absl::Status NotFound(int64_t tree_id) {
  return absl::NotFoundError(absl::StrCat("tree ", tree_id, " not found"));
}

}  // namespace

absl::Status RocksTreeStorage::CreateTree(const trillian::Tree& tree,
                                          absl::string_view wrapped_private_key,
                                          absl::string_view wrapped_note_key) {
  absl::MutexLock lock(&write_mu_);
  std::string existing;
  ::rocksdb::Status s = db_->db()->Get(::rocksdb::ReadOptions(), db_->trees(),
                                       keys::Tree(tree.tree_id()), &existing);
  if (s.ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("tree ", tree.tree_id(), " already exists"));
  }
  if (!s.IsNotFound()) return ToAbsl(s);
  ::rocksdb::WriteBatch batch;
  batch.Put(db_->trees(), keys::Tree(tree.tree_id()), tree.SerializeAsString());
  batch.Put(
      db_->trees(), keys::PrivateKey(tree.tree_id()),
      ::rocksdb::Slice(wrapped_private_key.data(), wrapped_private_key.size()));
  if (!wrapped_note_key.empty()) {
    batch.Put(
        db_->trees(), keys::NoteKey(tree.tree_id()),
        ::rocksdb::Slice(wrapped_note_key.data(), wrapped_note_key.size()));
  }
  return ToAbsl(db_->db()->Write(db_->durable_write(), &batch));
}

absl::StatusOr<trillian::Tree> RocksTreeStorage::GetTree(int64_t tree_id) {
  {
    absl::MutexLock lock(&cache_mu_);
    auto it = cache_.find(tree_id);
    if (it != cache_.end()) return it->second;
  }
  absl::StatusOr<trillian::Tree> tree = ReadTree(tree_id);
  if (tree.ok()) {
    absl::MutexLock lock(&cache_mu_);
    cache_.try_emplace(tree_id, *tree);  // A concurrent writer's is newer.
  }
  return tree;
}

absl::StatusOr<trillian::Tree> RocksTreeStorage::ReadTree(int64_t tree_id) {
  std::string value;
  ::rocksdb::Status s = db_->db()->Get(::rocksdb::ReadOptions(), db_->trees(),
                                       keys::Tree(tree_id), &value);
  if (s.IsNotFound()) return NotFound(tree_id);
  if (!s.ok()) return ToAbsl(s);
  trillian::Tree tree;
  if (!tree.ParseFromString(value)) {
    return absl::DataLossError(absl::StrCat("tree ", tree_id, " is corrupt"));
  }
  return tree;
}

absl::StatusOr<std::vector<trillian::Tree>> RocksTreeStorage::ListTrees(
    bool include_deleted) {
  std::vector<trillian::Tree> trees;
  std::unique_ptr<::rocksdb::Iterator> it(
      db_->db()->NewIterator(::rocksdb::ReadOptions(), db_->trees()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8) continue;  // Keys and other per-tree records.
    trillian::Tree tree;
    if (!tree.ParseFromArray(it->value().data(), it->value().size())) {
      return absl::DataLossError("corrupt tree record");
    }
    if (tree.deleted() && !include_deleted) continue;
    trees.push_back(std::move(tree));
  }
  if (!it->status().ok()) return ToAbsl(it->status());
  return trees;
}

absl::StatusOr<trillian::Tree> RocksTreeStorage::UpdateTree(
    int64_t tree_id,
    const std::function<absl::Status(trillian::Tree&)>& mutate) {
  absl::MutexLock lock(&write_mu_);
  ::rocksdb::WriteBatch batch;
  return MutateLocked(tree_id, mutate, batch);
}

absl::StatusOr<trillian::Tree> RocksTreeStorage::AddNoteKey(
    int64_t tree_id, absl::string_view wrapped_note_key,
    const std::function<absl::Status(trillian::Tree&)>& mutate) {
  absl::MutexLock lock(&write_mu_);
  absl::StatusOr<std::string> existing =
      ReadTreeRecord(tree_id, keys::NoteKey(tree_id));
  if (existing.ok()) {
    return absl::AlreadyExistsError(
        absl::StrCat("tree ", tree_id, " already has a note key"));
  }
  if (!absl::IsNotFound(existing.status())) return existing.status();
  ::rocksdb::WriteBatch batch;
  batch.Put(db_->trees(), keys::NoteKey(tree_id),
            ::rocksdb::Slice(wrapped_note_key.data(), wrapped_note_key.size()));
  return MutateLocked(tree_id, mutate, batch);
}

absl::StatusOr<trillian::Tree> RocksTreeStorage::MutateLocked(
    int64_t tree_id, const std::function<absl::Status(trillian::Tree&)>& mutate,
    ::rocksdb::WriteBatch& batch) {
  absl::StatusOr<trillian::Tree> tree = ReadTree(tree_id);
  if (!tree.ok()) return tree.status();
  if (absl::Status s = mutate(*tree); !s.ok()) return s;
  tree->set_tree_id(tree_id);
  batch.Put(db_->trees(), keys::Tree(tree_id), tree->SerializeAsString());
  absl::Status written = ToAbsl(db_->db()->Write(db_->durable_write(), &batch));
  if (!written.ok()) return written;
  absl::MutexLock cache_lock(&cache_mu_);
  cache_.insert_or_assign(tree_id, *tree);
  return tree;
}

absl::StatusOr<std::string> RocksTreeStorage::GetWrappedPrivateKey(
    int64_t tree_id) {
  return ReadTreeRecord(tree_id, keys::PrivateKey(tree_id));
}

absl::StatusOr<std::string> RocksTreeStorage::GetWrappedNoteKey(
    int64_t tree_id) {
  absl::StatusOr<std::string> key =
      ReadTreeRecord(tree_id, keys::NoteKey(tree_id));
  if (absl::IsNotFound(key.status())) {
    return absl::NotFoundError(
        absl::StrCat("tree ", tree_id, " has no checkpoint note key"));
  }
  return key;
}

absl::StatusOr<std::string> RocksTreeStorage::ReadTreeRecord(
    int64_t tree_id, const std::string& key) {
  std::string value;
  ::rocksdb::Status s =
      db_->db()->Get(::rocksdb::ReadOptions(), db_->trees(), key, &value);
  if (s.IsNotFound()) return NotFound(tree_id);
  if (!s.ok()) return ToAbsl(s);
  return value;
}

}  // namespace trellis::storage::rocksdb
