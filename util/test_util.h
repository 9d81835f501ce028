// Helpers shared by tests.
#ifndef TRELLIS_UTIL_TEST_UTIL_H_
#define TRELLIS_UTIL_TEST_UTIL_H_

#include <string>

namespace trellis::testing {

// A fresh directory under TEST_TMPDIR (or /tmp), removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

}  // namespace trellis::testing

#endif  // TRELLIS_UTIL_TEST_UTIL_H_
