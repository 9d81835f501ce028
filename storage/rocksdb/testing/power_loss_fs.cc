#include "storage/rocksdb/testing/power_loss_fs.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace trellis::testing {
namespace {

using ::rocksdb::IODebugContext;
using ::rocksdb::IOOptions;
using ::rocksdb::IOStatus;

// Collapses repeated slashes and drops trailing ones, so that a file's
// directory part matches the name RocksDB opens the directory with
// ("/db" and "/db//000001.log" -> "/db").
std::string Normalize(const std::string& path) {
  std::string out;
  out.reserve(path.size());
  for (char c : path) {
    if (c == '/' && !out.empty() && out.back() == '/') continue;
    out.push_back(c);
  }
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

// The directory holding the normalized `path`.
std::string DirOf(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

absl::Status ToAbsl(const ::rocksdb::Status& s, const std::string& what) {
  if (s.ok()) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", s.ToString()));
}

// Cuts `path` back to `size` bytes. The default (POSIX) FileSystem of RocksDB
// 7.8 does not implement FileSystem::Truncate, but its writable files do.
IOStatus TruncatePath(::rocksdb::FileSystem* fs, const std::string& path,
                      uint64_t size) {
  IOStatus s = fs->Truncate(path, size, IOOptions(), nullptr);
  if (!s.IsNotSupported()) return s;
  std::unique_ptr<::rocksdb::FSWritableFile> file;
  s = fs->ReopenWritableFile(path, ::rocksdb::FileOptions(), &file, nullptr);
  if (!s.ok()) return s;
  s = file->Truncate(size, IOOptions(), nullptr);
  IOStatus closed = file->Close(IOOptions(), nullptr);
  return s.ok() ? closed : s;
}

}  // namespace

// Forwards to the real file; counts bytes written and records how many of
// them a successful Sync/Fsync made durable.
class PowerLossFileSystem::WritableFile
    : public ::rocksdb::FSWritableFileOwnerWrapper {
 public:
  // The caller has already counted the file as open.
  WritableFile(PowerLossFileSystem* fs, std::shared_ptr<FileState> state,
               std::unique_ptr<::rocksdb::FSWritableFile> file)
      : FSWritableFileOwnerWrapper(std::move(file)),
        fs_(fs),
        state_(std::move(state)) {}

  ~WritableFile() override {
    // Close the real file before counting it closed, so that ApplyPowerLoss
    // never races with its final ftruncate.
    if (!closed_) target()->Close(IOOptions(), nullptr).PermitUncheckedError();
    fs_->FileClosed();
  }

  IOStatus Append(const ::rocksdb::Slice& data, const IOOptions& options,
                  IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (s.ok()) s = target()->Append(data, options, dbg);
    if (s.ok()) fs_->AddWritten(state_.get(), data.size());
    return s;
  }
  IOStatus Append(const ::rocksdb::Slice& data, const IOOptions& options,
                  const ::rocksdb::DataVerificationInfo& info,
                  IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (s.ok()) s = target()->Append(data, options, info, dbg);
    if (s.ok()) fs_->AddWritten(state_.get(), data.size());
    return s;
  }
  IOStatus PositionedAppend(const ::rocksdb::Slice& data, uint64_t offset,
                            const IOOptions& options,
                            IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (s.ok()) s = target()->PositionedAppend(data, offset, options, dbg);
    if (s.ok()) fs_->SetWrittenAtLeast(state_.get(), offset + data.size());
    return s;
  }
  IOStatus PositionedAppend(const ::rocksdb::Slice& data, uint64_t offset,
                            const IOOptions& options,
                            const ::rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (s.ok()) {
      s = target()->PositionedAppend(data, offset, options, info, dbg);
    }
    if (s.ok()) fs_->SetWrittenAtLeast(state_.get(), offset + data.size());
    return s;
  }
  IOStatus Truncate(uint64_t size, const IOOptions& options,
                    IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (s.ok()) s = target()->Truncate(size, options, dbg);
    if (s.ok()) s = fs_->TruncateTracked(state_.get(), size);
    return s;
  }
  IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (s.ok()) s = target()->Flush(options, dbg);
    return s;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    return DoSync(/*fsync=*/false, options, dbg);
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return DoSync(/*fsync=*/true, options, dbg);
  }
  // sync_file_range() gives no durability guarantee (no metadata, no disk
  // cache flush), so it makes nothing durable in the model.
  IOStatus RangeSync(uint64_t offset, uint64_t nbytes, const IOOptions& options,
                     IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (s.ok() && fs_->options_.forward_syncs) {
      s = target()->RangeSync(offset, nbytes, options, dbg);
    }
    return s;
  }
  // Closing makes nothing durable. The real file is always closed so that no
  // descriptor outlives a power cut.
  IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = target()->Close(options, dbg);
    closed_ = true;
    if (fs_->power_is_cut()) return PowerCutError();
    return s;
  }

 private:
  IOStatus DoSync(bool fsync, const IOOptions& options, IODebugContext* dbg) {
    IOStatus s = fs_->CheckPower();
    if (!s.ok()) return s;
    // Bytes written before the sync starts are durable once it returns.
    const uint64_t upto = fs_->Written(state_.get());
    if (fs_->options_.forward_syncs) {
      s = fsync ? target()->Fsync(options, dbg) : target()->Sync(options, dbg);
      if (!s.ok()) return s;
    }
    return fs_->MarkDurable(state_.get(), upto);
  }

  PowerLossFileSystem* const fs_;
  const std::shared_ptr<FileState> state_;
  bool closed_ = false;
};

// Random read/write files are only fenced by the power cut; their data counts
// as durable as soon as it is written (RocksDB uses them for external file
// ingestion, not for the WAL, SSTs or MANIFEST).
class PowerLossFileSystem::RandomRWFile
    : public ::rocksdb::FSRandomRWFileOwnerWrapper {
 public:
  RandomRWFile(PowerLossFileSystem* fs,
               std::unique_ptr<::rocksdb::FSRandomRWFile> file)
      : FSRandomRWFileOwnerWrapper(std::move(file)), fs_(fs) {}

  ~RandomRWFile() override {
    if (!closed_) target()->Close(IOOptions(), nullptr).PermitUncheckedError();
    fs_->FileClosed();
  }

  IOStatus Write(uint64_t offset, const ::rocksdb::Slice& data,
                 const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (s.ok()) s = target()->Write(offset, data, options, dbg);
    return s;
  }
  IOStatus Flush(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (s.ok()) s = target()->Flush(options, dbg);
    return s;
  }
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (s.ok() && fs_->options_.forward_syncs) s = target()->Sync(options, dbg);
    return s;
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (s.ok() && fs_->options_.forward_syncs) {
      s = target()->Fsync(options, dbg);
    }
    return s;
  }
  IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = target()->Close(options, dbg);
    closed_ = true;
    if (fs_->power_is_cut()) return PowerCutError();
    return s;
  }

 private:
  PowerLossFileSystem* const fs_;
  bool closed_ = false;
};

// A directory fsync makes every name change recorded in the directory before
// the fsync started durable.
class PowerLossFileSystem::Directory : public ::rocksdb::FSDirectoryWrapper {
 public:
  Directory(PowerLossFileSystem* fs, std::string name,
            std::unique_ptr<::rocksdb::FSDirectory> dir)
      : FSDirectoryWrapper(std::move(dir)), fs_(fs), name_(std::move(name)) {}

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = fs_->CheckPower();
    if (!s.ok()) return s;
    const uint64_t seq = fs_->CurrentSeq();
    if (fs_->options_.forward_syncs) {
      s = FSDirectoryWrapper::Fsync(options, dbg);
      if (!s.ok()) return s;
    }
    return fs_->DirectorySynced(name_, seq);
  }
  // On btrfs the base implementation may fsync only the renamed file; the
  // model treats every variant as a full directory fsync (ext4/xfs).
  IOStatus FsyncWithDirOptions(
      const IOOptions& options, IODebugContext* dbg,
      const ::rocksdb::DirFsyncOptions& dir_fsync_options) override {
    IOStatus s = fs_->CheckPower();
    if (!s.ok()) return s;
    const uint64_t seq = fs_->CurrentSeq();
    if (fs_->options_.forward_syncs) {
      s = FSDirectoryWrapper::FsyncWithDirOptions(options, dbg,
                                                  dir_fsync_options);
      if (!s.ok()) return s;
    }
    return fs_->DirectorySynced(name_, seq);
  }

 private:
  PowerLossFileSystem* const fs_;
  const std::string name_;
};

std::shared_ptr<PowerLossFileSystem> PowerLossFileSystem::Create(
    std::shared_ptr<::rocksdb::FileSystem> base) {
  return Create(std::move(base), Options());
}

std::shared_ptr<PowerLossFileSystem> PowerLossFileSystem::Create(
    std::shared_ptr<::rocksdb::FileSystem> base, Options options) {
  return std::shared_ptr<PowerLossFileSystem>(
      new PowerLossFileSystem(std::move(base), options));
}

PowerLossFileSystem::PowerLossFileSystem(
    std::shared_ptr<::rocksdb::FileSystem> base, Options options)
    : FileSystemWrapper(base), options_(options) {}

std::unique_ptr<::rocksdb::Env> PowerLossFileSystem::NewEnv() {
  return ::rocksdb::NewCompositeEnv(shared_from_this());
}

void PowerLossFileSystem::CutPower() {
  absl::MutexLock lock(&mu_);
  power_cut_.store(true);
}

bool PowerLossFileSystem::power_is_cut() const { return power_cut_.load(); }

IOStatus PowerLossFileSystem::PowerCutError() {
  return IOStatus::IOError("PowerLossFileSystem: the power is cut");
}

IOStatus PowerLossFileSystem::CheckPower() const {
  return power_cut_.load() ? PowerCutError() : IOStatus::OK();
}

void PowerLossFileSystem::NoteCreatedLocked(const std::string& path) {
  if (pending_.count(path) == 0) {
    pending_[path] = PendingName{std::nullopt, next_seq_++};
  }
}

bool PowerLossFileSystem::ExistsOnDisk(const std::string& path) {
  return target()->FileExists(path, IOOptions(), nullptr).ok();
}

IOStatus PowerLossFileSystem::ReadDurableContentLocked(const std::string& path,
                                                       std::string* content) {
  IOStatus s = ::rocksdb::ReadFileToString(target(), path, content);
  if (!s.ok()) return s;
  auto it = files_.find(path);
  if (it != files_.end() && content->size() > it->second->durable) {
    content->resize(it->second->durable);
  }
  return IOStatus::OK();
}

IOStatus PowerLossFileSystem::RememberDurableNameLocked(
    const std::string& path) {
  if (pending_.count(path) != 0) return IOStatus::OK();
  PendingName pending;
  if (ExistsOnDisk(path)) {
    std::string content;
    IOStatus s = ReadDurableContentLocked(path, &content);
    if (!s.ok()) return s;
    pending.durable_content = std::move(content);
  }
  pending.seq = next_seq_++;
  pending_.emplace(path, std::move(pending));
  return IOStatus::OK();
}

void PowerLossFileSystem::FileClosed() {
  absl::MutexLock lock(&mu_);
  --open_files_;
}

void PowerLossFileSystem::AddWritten(FileState* state, uint64_t bytes) {
  absl::MutexLock lock(&mu_);
  state->written += bytes;
}

void PowerLossFileSystem::SetWrittenAtLeast(FileState* state, uint64_t end) {
  absl::MutexLock lock(&mu_);
  state->written = std::max(state->written, end);
}

uint64_t PowerLossFileSystem::Written(FileState* state) {
  absl::MutexLock lock(&mu_);
  return state->written;
}

IOStatus PowerLossFileSystem::MarkDurable(FileState* state, uint64_t upto) {
  absl::MutexLock lock(&mu_);
  // Checked under the lock that CutPower() takes: a sync either lands in the
  // model before the cut or reports failure.
  if (power_cut_.load()) return PowerCutError();
  state->durable = std::max(state->durable, std::min(upto, state->written));
  return IOStatus::OK();
}

IOStatus PowerLossFileSystem::TruncateTracked(FileState* state, uint64_t size) {
  absl::MutexLock lock(&mu_);
  if (power_cut_.load()) return PowerCutError();
  state->written = size;
  state->durable = std::min(state->durable, size);
  return IOStatus::OK();
}

uint64_t PowerLossFileSystem::CurrentSeq() {
  absl::MutexLock lock(&mu_);
  return next_seq_;
}

IOStatus PowerLossFileSystem::DirectorySynced(const std::string& dir,
                                              uint64_t seq) {
  absl::MutexLock lock(&mu_);
  if (power_cut_.load()) return PowerCutError();
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->second.seq < seq && DirOf(it->first) == dir) {
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
  return IOStatus::OK();
}

IOStatus PowerLossFileSystem::NewWritableFile(
    const std::string& fname, const ::rocksdb::FileOptions& file_opts,
    std::unique_ptr<::rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  const std::string path = Normalize(fname);
  absl::MutexLock lock(&mu_);
  if (power_cut_.load()) return PowerCutError();
  const bool existed = ExistsOnDisk(path);
  std::unique_ptr<::rocksdb::FSWritableFile> file;
  IOStatus s = target()->NewWritableFile(fname, file_opts, &file, dbg);
  if (!s.ok()) return s;
  // A new name is lost unless its directory is fsynced. Truncating an
  // existing file keeps the name; its old content counts as gone.
  if (!existed) NoteCreatedLocked(path);
  auto state = std::make_shared<FileState>();
  files_[path] = state;
  ++open_files_;
  *result =
      std::make_unique<WritableFile>(this, std::move(state), std::move(file));
  return IOStatus::OK();
}

IOStatus PowerLossFileSystem::ReopenWritableFile(
    const std::string& fname, const ::rocksdb::FileOptions& file_opts,
    std::unique_ptr<::rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  const std::string path = Normalize(fname);
  absl::MutexLock lock(&mu_);
  if (power_cut_.load()) return PowerCutError();
  const bool existed = ExistsOnDisk(path);
  uint64_t size = 0;
  if (existed) {
    IOStatus s = target()->GetFileSize(path, IOOptions(), &size, nullptr);
    if (!s.ok()) return s;
  }
  std::unique_ptr<::rocksdb::FSWritableFile> file;
  IOStatus s = target()->ReopenWritableFile(fname, file_opts, &file, dbg);
  if (!s.ok()) return s;
  std::shared_ptr<FileState>& state = files_[path];
  if (state != nullptr) {
    state->written = size;
    state->durable = std::min(state->durable, size);
  } else {
    // Content we did not write ourselves counts as durable.
    state = std::make_shared<FileState>();
    state->written = state->durable = size;
    if (!existed) NoteCreatedLocked(path);
  }
  ++open_files_;
  *result = std::make_unique<WritableFile>(this, state, std::move(file));
  return IOStatus::OK();
}

// Modeled as a rename followed by creating the file afresh (the real call
// would overwrite in place; for recycled WAL files the result is equivalent).
IOStatus PowerLossFileSystem::ReuseWritableFile(
    const std::string& fname, const std::string& old_fname,
    const ::rocksdb::FileOptions& file_opts,
    std::unique_ptr<::rocksdb::FSWritableFile>* result, IODebugContext* dbg) {
  IOStatus s = RenameFile(old_fname, fname, IOOptions(), dbg);
  if (!s.ok()) return s;
  return NewWritableFile(fname, file_opts, result, dbg);
}

IOStatus PowerLossFileSystem::NewRandomRWFile(
    const std::string& fname, const ::rocksdb::FileOptions& file_opts,
    std::unique_ptr<::rocksdb::FSRandomRWFile>* result, IODebugContext* dbg) {
  const std::string path = Normalize(fname);
  absl::MutexLock lock(&mu_);
  if (power_cut_.load()) return PowerCutError();
  const bool existed = ExistsOnDisk(path);
  std::unique_ptr<::rocksdb::FSRandomRWFile> file;
  IOStatus s = target()->NewRandomRWFile(fname, file_opts, &file, dbg);
  if (!s.ok()) return s;
  if (!existed) NoteCreatedLocked(path);
  ++open_files_;
  *result = std::make_unique<RandomRWFile>(this, std::move(file));
  return IOStatus::OK();
}

IOStatus PowerLossFileSystem::NewDirectory(
    const std::string& name, const IOOptions& io_opts,
    std::unique_ptr<::rocksdb::FSDirectory>* result, IODebugContext* dbg) {
  std::unique_ptr<::rocksdb::FSDirectory> dir;
  IOStatus s = target()->NewDirectory(name, io_opts, &dir, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<Directory>(this, Normalize(name), std::move(dir));
  return IOStatus::OK();
}

// Deletions take effect at once: the model does not resurrect a file whose
// deletion was not followed by a directory fsync.
IOStatus PowerLossFileSystem::DeleteFile(const std::string& fname,
                                         const IOOptions& options,
                                         IODebugContext* dbg) {
  const std::string path = Normalize(fname);
  absl::MutexLock lock(&mu_);
  if (power_cut_.load()) return PowerCutError();
  IOStatus s = target()->DeleteFile(fname, options, dbg);
  if (s.ok()) files_.erase(path);
  return s;
}

IOStatus PowerLossFileSystem::Truncate(const std::string& fname, size_t size,
                                       const IOOptions& options,
                                       IODebugContext* dbg) {
  const std::string path = Normalize(fname);
  absl::MutexLock lock(&mu_);
  if (power_cut_.load()) return PowerCutError();
  IOStatus s = target()->Truncate(fname, size, options, dbg);
  if (!s.ok()) return s;
  auto it = files_.find(path);
  if (it != files_.end()) {
    it->second->written = size;
    it->second->durable = std::min<uint64_t>(it->second->durable, size);
  }
  return s;
}

IOStatus PowerLossFileSystem::RenameFile(const std::string& src,
                                         const std::string& target_name,
                                         const IOOptions& options,
                                         IODebugContext* dbg) {
  const std::string from = Normalize(src);
  const std::string to = Normalize(target_name);
  absl::MutexLock lock(&mu_);
  if (power_cut_.load()) return PowerCutError();
  // Undo records for both names, taken before the rename and kept only if it
  // succeeds.
  const bool from_pending = pending_.count(from) != 0;
  const bool to_pending = pending_.count(to) != 0;
  IOStatus s = RememberDurableNameLocked(from);
  if (s.ok()) s = RememberDurableNameLocked(to);
  if (s.ok()) s = target()->RenameFile(src, target_name, options, dbg);
  if (!s.ok()) {
    if (!from_pending) pending_.erase(from);
    if (!to_pending) pending_.erase(to);
    return s;
  }
  // The inode, with its durable length, moves to the new name.
  auto it = files_.find(from);
  if (it != files_.end()) {
    std::shared_ptr<FileState> state = std::move(it->second);
    files_.erase(it);
    files_[to] = std::move(state);
  } else {
    files_.erase(to);
  }
  return IOStatus::OK();
}

IOStatus PowerLossFileSystem::LinkFile(const std::string& src,
                                       const std::string& target_name,
                                       const IOOptions& options,
                                       IODebugContext* dbg) {
  const std::string from = Normalize(src);
  const std::string to = Normalize(target_name);
  absl::MutexLock lock(&mu_);
  if (power_cut_.load()) return PowerCutError();
  const bool to_pending = pending_.count(to) != 0;
  IOStatus s = RememberDurableNameLocked(to);
  if (s.ok()) s = target()->LinkFile(src, target_name, options, dbg);
  if (!s.ok()) {
    if (!to_pending) pending_.erase(to);
    return s;
  }
  auto it = files_.find(from);
  if (it != files_.end()) {
    files_[to] = it->second;  // Same inode under two names.
  } else {
    files_.erase(to);
  }
  return IOStatus::OK();
}

IOStatus PowerLossFileSystem::CreateDir(const std::string& dirname,
                                        const IOOptions& options,
                                        IODebugContext* dbg) {
  IOStatus s = CheckPower();
  if (s.ok()) s = target()->CreateDir(dirname, options, dbg);
  return s;
}

IOStatus PowerLossFileSystem::CreateDirIfMissing(const std::string& dirname,
                                                 const IOOptions& options,
                                                 IODebugContext* dbg) {
  IOStatus s = CheckPower();
  if (s.ok()) s = target()->CreateDirIfMissing(dirname, options, dbg);
  return s;
}

IOStatus PowerLossFileSystem::DeleteDir(const std::string& dirname,
                                        const IOOptions& options,
                                        IODebugContext* dbg) {
  IOStatus s = CheckPower();
  if (s.ok()) s = target()->DeleteDir(dirname, options, dbg);
  return s;
}

absl::Status PowerLossFileSystem::ApplyPowerLoss(PowerLossReport* report) {
  absl::MutexLock lock(&mu_);
  if (!power_cut_.load()) {
    return absl::FailedPreconditionError(
        "ApplyPowerLoss: call CutPower() first");
  }
  if (open_files_ != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("ApplyPowerLoss: ", open_files_,
                     " writable files still open; destroy the DB first"));
  }
  PowerLossReport local;
  PowerLossReport& r = report != nullptr ? *report : local;
  r = PowerLossReport();

  // Unsynced tails are lost.
  for (const auto& [path, state] : files_) {
    if (!ExistsOnDisk(path)) continue;
    uint64_t size = 0;
    IOStatus s = target()->GetFileSize(path, IOOptions(), &size, nullptr);
    if (!s.ok()) return ToAbsl(s, "GetFileSize " + path);
    if (size <= state->durable) continue;
    s = TruncatePath(target(), path, state->durable);
    if (!s.ok()) return ToAbsl(s, "Truncate " + path);
    ++r.files_truncated;
    r.bytes_dropped += size - state->durable;
  }
  // Name changes not covered by a directory fsync are undone. This runs after
  // the truncations, so an undo wins over the inode's new name.
  for (const auto& [path, pending] : pending_) {
    if (!pending.durable_content.has_value()) {
      if (!ExistsOnDisk(path)) continue;
      IOStatus s = target()->DeleteFile(path, IOOptions(), nullptr);
      if (!s.ok()) return ToAbsl(s, "DeleteFile " + path);
      ++r.files_deleted;
    } else {
      IOStatus s = ::rocksdb::WriteStringToFile(
          target(), *pending.durable_content, path, /*should_sync=*/false);
      if (!s.ok()) return ToAbsl(s, "WriteStringToFile " + path);
      ++r.files_restored;
    }
  }
  files_.clear();
  pending_.clear();
  power_cut_.store(false);
  return absl::OkStatus();
}

}  // namespace trellis::testing
