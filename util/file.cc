#include "util/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace trellis {
namespace {

class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  const int fd_;
};

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(errno)));
}

absl::Status WriteAll(int fd, absl::string_view bytes,
                      const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("write", path);
    bytes.remove_prefix(n);
  }
  if (fsync(fd) != 0) return Errno("sync", path);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     ReadOptions options) {
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused
  // below as not a regular file.
  const int flags =
      O_RDONLY | O_CLOEXEC | O_NONBLOCK | (options.no_follow ? O_NOFOLLOW : 0);
  Fd fd(open(path.c_str(), flags));
  if (fd.get() < 0) {
    return absl::NotFoundError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return Errno("stat", path);
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(path + " is not a regular file");
  }
  if (static_cast<uint64_t>(st.st_size) > options.max_bytes) {
    return absl::OutOfRangeError(
        absl::StrCat(path, " is larger than ", options.max_bytes, " bytes"));
  }
  std::string out;
  out.resize(st.st_size);
  size_t have = 0;
  // The file may grow while read: stop at the cap rather than trust st_size.
  while (true) {
    if (have == out.size()) {
      if (out.size() >= options.max_bytes) {
        char probe;
        const ssize_t n = read(fd.get(), &probe, 1);
        if (n == 0) break;
        return absl::OutOfRangeError(absl::StrCat(path, " is larger than ",
                                                  options.max_bytes, " bytes"));
      }
      out.resize(std::min(options.max_bytes, out.size() * 2 + 4096));
    }
    const ssize_t n = read(fd.get(), out.data() + have, out.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("read", path);
    if (n == 0) break;
    have += n;
  }
  out.resize(have);
  return out;
}

absl::Status WriteNewFile(const std::string& path, absl::string_view bytes,
                          int mode) {
  Fd fd(open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
             mode));
  if (fd.get() < 0) {
    if (errno == EEXIST) return absl::AlreadyExistsError(path + " exists");
    return Errno("create", path);
  }
  absl::Status written = WriteAll(fd.get(), bytes, path);
  if (!written.ok()) unlink(path.c_str());
  return written;
}

absl::Status ReplaceFile(const std::string& path, absl::string_view bytes,
                         int mode) {
  const std::string tmp = absl::StrCat(path, ".tmp.", getpid());
  unlink(tmp.c_str());  // A leftover of a crashed writer with our pid.
  if (absl::Status s = WriteNewFile(tmp, bytes, mode); !s.ok()) return s;
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    absl::Status s = Errno("replace", path);
    unlink(tmp.c_str());
    return s;
  }
  return absl::OkStatus();
}

}  // namespace trellis
