#include "admin/backup.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "map/map_root.h"
#include "merkle/log_root.h"
#include "storage/rocksdb/log_storage.h"
#include "storage/rocksdb/map_storage.h"
#include "storage/rocksdb/root_record.h"
#include "storage/rocksdb/tree_storage.h"

namespace trellis::admin {
namespace {

namespace fs = std::filesystem;

// Reading a backup's roots or checking its trees needs little cache.
constexpr size_t kCheckCacheBytes = size_t{64} << 20;

absl::Status Errno(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", strerror(errno)));
}

absl::Status SyncPath(const std::string& path, int flags) {
  const int fd = open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return Errno(path);
  const int synced = fsync(fd);
  close(fd);
  return synced == 0 ? absl::OkStatus() : Errno(path);
}

// The regular files directly in `directory` (without throwing, unlike a
// range-for over a directory_iterator).
absl::StatusOr<std::vector<fs::path>> RegularFiles(
    const std::string& directory) {
  std::error_code error;
  std::vector<fs::path> files;
  fs::directory_iterator it(directory, error);
  for (; !error && it != fs::directory_iterator(); it.increment(error)) {
    std::error_code type_error;
    if (it->is_regular_file(type_error)) files.push_back(it->path());
  }
  if (error) {
    return absl::UnavailableError(
        absl::StrCat("reading ", directory, ": ", error.message()));
  }
  return files;
}

// The storages of a database opened for reading.
struct OpenedStore {
  std::unique_ptr<storage::rocksdb::Database> db;
  std::unique_ptr<storage::rocksdb::RocksTreeStorage> trees;
  std::unique_ptr<storage::rocksdb::RocksLogStorage> logs;
  std::unique_ptr<storage::rocksdb::RocksMapStorage> maps;
};

absl::StatusOr<OpenedStore> OpenReadOnly(const std::string& path) {
  storage::rocksdb::DatabaseOptions options;
  options.path = path;
  options.block_cache_bytes = kCheckCacheBytes;
  options.read_only = true;
  absl::StatusOr<std::unique_ptr<storage::rocksdb::Database>> db =
      storage::rocksdb::Database::Open(options);
  if (!db.ok()) return db.status();
  OpenedStore store;
  store.db = std::move(*db);
  store.trees =
      std::make_unique<storage::rocksdb::RocksTreeStorage>(store.db.get());
  store.logs = std::make_unique<storage::rocksdb::RocksLogStorage>(
      store.db.get(), kCheckCacheBytes);
  store.maps =
      std::make_unique<storage::rocksdb::RocksMapStorage>(store.db.get());
  return store;
}

}  // namespace

absl::StatusOr<BackupSummary> CreateBackup(const storage::rocksdb::Database& db,
                                           const std::string& directory) {
  if (directory.empty() || directory[0] != '/') {
    return absl::InvalidArgumentError(
        "the backup directory must be an absolute path");
  }
  if (absl::Status s = db.Checkpoint(directory); !s.ok()) return s;
  if (absl::Status s = SyncPath(directory, O_RDONLY | O_DIRECTORY); !s.ok()) {
    return s;
  }
  BackupSummary summary;
  summary.directory = directory;
  absl::StatusOr<std::vector<fs::path>> files = RegularFiles(directory);
  if (!files.ok()) return files.status();
  for (const fs::path& file : *files) {
    std::error_code error;
    const uintmax_t size = fs::file_size(file, error);
    if (!error) summary.bytes += size;
  }
  absl::StatusOr<OpenedStore> store = OpenReadOnly(directory);
  if (!store.ok()) return store.status();
  absl::StatusOr<std::vector<trillian::Tree>> trees =
      store->trees->ListTrees(/*include_deleted=*/false);
  if (!trees.ok()) return trees.status();
  for (const trillian::Tree& tree : *trees) {
    BackedUpTree backed_up;
    backed_up.tree_id = tree.tree_id();
    backed_up.type = tree.tree_type();
    if (tree.tree_type() == trillian::MAP) {
      absl::StatusOr<std::optional<storage::MapRevision>> latest =
          store->maps->LatestRevision(tree.tree_id());
      if (!latest.ok()) return latest.status();
      if (!latest->has_value()) continue;
      absl::StatusOr<map::MapRootV1> root =
          map::ParseMapRoot((*latest)->root.map_root());
      if (!root.ok()) return absl::DataLossError(root.status().message());
      backed_up.size = root->revision;
      backed_up.root_hash = root->root_hash;
    } else {
      // The root record alone: loading the log's state would read its
      // whole queue into this (serving) process.
      absl::StatusOr<std::optional<storage::rocksdb::LatestRootRecord>> latest =
          storage::rocksdb::ReadLatestRootRecord(*store->db, tree.tree_id());
      if (!latest.ok()) return latest.status();
      if (!latest->has_value()) continue;
      absl::StatusOr<merkle::LogRootV1> root =
          merkle::ParseLogRoot((*latest)->record.root.log_root());
      if (!root.ok()) return absl::DataLossError(root.status().message());
      backed_up.size = root->tree_size;
      backed_up.root_hash = root->root_hash;
    }
    summary.trees.push_back(std::move(backed_up));
  }
  std::sort(summary.trees.begin(), summary.trees.end(),
            [](const BackedUpTree& a, const BackedUpTree& b) {
              return a.tree_id < b.tree_id;
            });
  return summary;
}

absl::Status RestoreBackup(const std::string& backup,
                           const std::string& target) {
  std::error_code error;
  if (!fs::exists(fs::path(backup) / "CURRENT", error)) {
    return absl::NotFoundError(
        absl::StrCat(backup, " is not a backup (no CURRENT file)"));
  }
  if (mkdir(target.c_str(), 0700) != 0) {
    return errno == EEXIST ? absl::AlreadyExistsError(absl::StrCat(
                                 target, " exists: restore into a new one"))
                           : Errno(target);
  }
  absl::StatusOr<std::vector<fs::path>> files = RegularFiles(backup);
  if (!files.ok()) return files.status();
  for (const fs::path& file : *files) {
    const fs::path to = fs::path(target) / file.filename();
    // Copies, never links: a restored database appends to its MANIFEST and
    // write-ahead log, which must not change the backup.
    if (!fs::copy_file(file, to, fs::copy_options::none, error)) {
      return absl::UnavailableError(
          absl::StrCat("copying ", file.string(), ": ", error.message()));
    }
    if (absl::Status s = SyncPath(to.string(), O_RDONLY); !s.ok()) return s;
  }
  return SyncPath(target, O_RDONLY | O_DIRECTORY);
}

absl::StatusOr<std::vector<TreeVerification>> VerifyDataDirectory(
    const std::string& data_dir, const VerifyProgress& progress) {
  // RocksDB holds a lock on LOCK while open; a read-only open takes none,
  // and a running server's compactions would delete files mid-check.
  const std::string lock_path = data_dir + "/LOCK";
  const int lock_fd = open(lock_path.c_str(), O_RDWR | O_CLOEXEC);
  if (lock_fd >= 0) {
    struct flock lock = {};
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    const bool in_use =
        fcntl(lock_fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
    close(lock_fd);
    if (in_use) {
      return absl::FailedPreconditionError(
          absl::StrCat(data_dir,
                       " is open in a running trellisd: stop it, or verify a "
                       "backup of it"));
    }
  }
  absl::StatusOr<OpenedStore> store = OpenReadOnly(data_dir);
  if (!store.ok()) return store.status();
  return VerifyStoredTrees(*store->trees, *store->logs, *store->maps, progress);
}

}  // namespace trellis::admin
