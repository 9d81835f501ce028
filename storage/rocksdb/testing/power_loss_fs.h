// Test-only RocksDB FileSystem that simulates a power cut: everything that
// was not made durable by an fsync is lost.
//
// Writes go straight through to the real files, so a DB running on top of it
// behaves normally. Alongside, the wrapper keeps a model of what a power cut
// would leave behind:
//   - per file written through it: how many bytes a successful Sync()/Fsync()
//     made durable (Flush(), RangeSync() and Close() make nothing durable);
//   - per directory: which names were created, renamed over or renamed away
//     since the last successful FSDirectory::Fsync() of that directory.
//
// Typical use:
//   auto fs = PowerLossFileSystem::Create();
//   std::unique_ptr<::rocksdb::Env> env = fs->NewEnv();
//   options.env = env.get();
//   ... open the DB, do acknowledged writes ...
//   fs->CutPower();       // from now on every mutation fails
//   db.reset();           // destroy the DB (its shutdown writes all fail)
//   fs->ApplyPowerLoss(); // disk now looks as after a real power loss
//   ... reopen with the default Env and check the acknowledged writes ...
#ifndef TRELLIS_STORAGE_ROCKSDB_TESTING_POWER_LOSS_FS_H_
#define TRELLIS_STORAGE_ROCKSDB_TESTING_POWER_LOSS_FS_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/env.h"
#include "rocksdb/file_system.h"

namespace trellis::testing {

// What ApplyPowerLoss() changed on disk.
struct PowerLossReport {
  int files_truncated = 0;     // Files cut back to their durable length.
  uint64_t bytes_dropped = 0;  // Bytes removed by those truncations.
  int files_deleted = 0;       // Files whose creation was never dir-synced.
  int files_restored = 0;      // Names put back by undoing un-synced renames.
};

class PowerLossFileSystem
    : public ::rocksdb::FileSystemWrapper,
      public std::enable_shared_from_this<PowerLossFileSystem> {
 public:
  struct Options {
    // If false, Sync()/Fsync()/directory Fsync() update the model but do not
    // reach the real disk: the model alone decides what survives, and tests
    // run much faster. The data is still written to the real files.
    bool forward_syncs = true;
  };

  static std::shared_ptr<PowerLossFileSystem> Create(
      std::shared_ptr<::rocksdb::FileSystem> base =
          ::rocksdb::FileSystem::Default());
  static std::shared_ptr<PowerLossFileSystem> Create(
      std::shared_ptr<::rocksdb::FileSystem> base, Options options);

  PowerLossFileSystem(const PowerLossFileSystem&) = delete;
  PowerLossFileSystem& operator=(const PowerLossFileSystem&) = delete;

  const char* Name() const override { return "PowerLossFileSystem"; }

  // An Env (Env::Default() with this file system) for DBOptions::env. It keeps
  // this file system alive; it must outlive every DB opened with it.
  std::unique_ptr<::rocksdb::Env> NewEnv();

  // From now on every write, sync, create, rename, delete and directory fsync
  // fails with an IOError, so nothing more can become durable. Thread-safe;
  // may be called while the DB is busy. A sync that returns OK has its effect
  // in the model; one that returns after the cut reports an error.
  void CutPower();
  bool power_is_cut() const;

  // Rewrites the files on disk to what a power loss at CutPower() would have
  // left: tracked files are truncated to their durable length, files whose
  // creation was not covered by a directory fsync are deleted, and un-synced
  // renames are undone. Requires CutPower() first and every writable file to
  // be closed (destroy the DB first): FailedPrecondition otherwise. Afterwards
  // the model is empty (everything on disk counts as durable) and the power is
  // back on, so the file system can be used for another round.
  absl::Status ApplyPowerLoss(PowerLossReport* report = nullptr);

  // FileSystem overrides.
  ::rocksdb::IOStatus NewWritableFile(
      const std::string& fname, const ::rocksdb::FileOptions& file_opts,
      std::unique_ptr<::rocksdb::FSWritableFile>* result,
      ::rocksdb::IODebugContext* dbg) override;
  ::rocksdb::IOStatus ReopenWritableFile(
      const std::string& fname, const ::rocksdb::FileOptions& file_opts,
      std::unique_ptr<::rocksdb::FSWritableFile>* result,
      ::rocksdb::IODebugContext* dbg) override;
  ::rocksdb::IOStatus ReuseWritableFile(
      const std::string& fname, const std::string& old_fname,
      const ::rocksdb::FileOptions& file_opts,
      std::unique_ptr<::rocksdb::FSWritableFile>* result,
      ::rocksdb::IODebugContext* dbg) override;
  ::rocksdb::IOStatus NewRandomRWFile(
      const std::string& fname, const ::rocksdb::FileOptions& file_opts,
      std::unique_ptr<::rocksdb::FSRandomRWFile>* result,
      ::rocksdb::IODebugContext* dbg) override;
  ::rocksdb::IOStatus NewDirectory(
      const std::string& name, const ::rocksdb::IOOptions& io_opts,
      std::unique_ptr<::rocksdb::FSDirectory>* result,
      ::rocksdb::IODebugContext* dbg) override;
  ::rocksdb::IOStatus DeleteFile(const std::string& fname,
                                 const ::rocksdb::IOOptions& options,
                                 ::rocksdb::IODebugContext* dbg) override;
  ::rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                               const ::rocksdb::IOOptions& options,
                               ::rocksdb::IODebugContext* dbg) override;
  ::rocksdb::IOStatus RenameFile(const std::string& src,
                                 const std::string& target,
                                 const ::rocksdb::IOOptions& options,
                                 ::rocksdb::IODebugContext* dbg) override;
  ::rocksdb::IOStatus LinkFile(const std::string& src,
                               const std::string& target,
                               const ::rocksdb::IOOptions& options,
                               ::rocksdb::IODebugContext* dbg) override;
  ::rocksdb::IOStatus CreateDir(const std::string& dirname,
                                const ::rocksdb::IOOptions& options,
                                ::rocksdb::IODebugContext* dbg) override;
  ::rocksdb::IOStatus CreateDirIfMissing(
      const std::string& dirname, const ::rocksdb::IOOptions& options,
      ::rocksdb::IODebugContext* dbg) override;
  ::rocksdb::IOStatus DeleteDir(const std::string& dirname,
                                const ::rocksdb::IOOptions& options,
                                ::rocksdb::IODebugContext* dbg) override;

 private:
  class WritableFile;
  class RandomRWFile;
  class Directory;

  // One inode written through this file system. Shared by the map entry and
  // the open handle, so a rename moves it with its name.
  struct FileState {
    uint64_t written = 0;  // Bytes the file holds (as far as we wrote them).
    uint64_t durable = 0;  // Prefix a power cut keeps.
  };

  // How to undo the changes to one name since its directory's last fsync.
  struct PendingName {
    // The content the name had at the last directory fsync; nullopt if the
    // name did not exist then.
    std::optional<std::string> durable_content;
    uint64_t seq = 0;  // Order of recording, for directory fsyncs.
  };

  PowerLossFileSystem(std::shared_ptr<::rocksdb::FileSystem> base,
                      Options options);

  static ::rocksdb::IOStatus PowerCutError();
  ::rocksdb::IOStatus CheckPower() const;

  // Records that `path` is about to change, if it is not already recorded
  // since the last fsync of its directory.
  ::rocksdb::IOStatus RememberDurableNameLocked(const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The durable content of an existing `path`: its synced prefix if tracked,
  // the whole file otherwise.
  ::rocksdb::IOStatus ReadDurableContentLocked(const std::string& path,
                                               std::string* content)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A name created that did not exist: gone after a power loss unless its
  // directory is fsynced first.
  void NoteCreatedLocked(const std::string& path)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool ExistsOnDisk(const std::string& path);

  // Called by the file and directory wrappers.
  void FileClosed();
  void AddWritten(FileState* state, uint64_t bytes);
  void SetWrittenAtLeast(FileState* state, uint64_t end);
  uint64_t Written(FileState* state);
  ::rocksdb::IOStatus MarkDurable(FileState* state, uint64_t upto);
  ::rocksdb::IOStatus TruncateTracked(FileState* state, uint64_t size);
  uint64_t CurrentSeq();
  ::rocksdb::IOStatus DirectorySynced(const std::string& dir, uint64_t seq);

  const Options options_;
  std::atomic<bool> power_cut_{false};

  mutable absl::Mutex mu_;
  // Normalized path -> state of the file written through us under that name.
  std::map<std::string, std::shared_ptr<FileState>> files_ ABSL_GUARDED_BY(mu_);
  // Normalized path -> undo record, for names changed since the last fsync of
  // their directory.
  std::map<std::string, PendingName> pending_ ABSL_GUARDED_BY(mu_);
  uint64_t next_seq_ ABSL_GUARDED_BY(mu_) = 1;
  int open_files_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace trellis::testing

#endif  // TRELLIS_STORAGE_ROCKSDB_TESTING_POWER_LOSS_FS_H_
