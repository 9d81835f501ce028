#include "util/file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "gtest/gtest.h"

namespace trellis {
namespace {

class FileTest : public testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/trellis-file-test-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  std::string dir_;
};

TEST_F(FileTest, WritesAndReads) {
  const std::string path = dir_ + "/a";
  ASSERT_TRUE(WriteNewFile(path, "secret").ok());
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*ReadFile(path), "secret");
  EXPECT_EQ(WriteNewFile(path, "other").code(),
            absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadFile(path), "secret");
  ASSERT_TRUE(ReplaceFile(path, "new", 0644).ok());
  EXPECT_EQ(*ReadFile(path), "new");
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(ReadFile(dir_ + "/missing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(FileTest, RefusesWhatIsNotARegularFile) {
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Would block forever waiting for a writer without O_NONBLOCK.
  EXPECT_EQ(ReadFile(fifo).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReadFile("/dev/zero").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(ReadFile(dir_).ok());
}

TEST_F(FileTest, CapsTheSize) {
  const std::string path = dir_ + "/big";
  ASSERT_TRUE(WriteNewFile(path, std::string(1000, 'x')).ok());
  ReadOptions options;
  options.max_bytes = 999;
  EXPECT_EQ(ReadFile(path, options).status().code(),
            absl::StatusCode::kOutOfRange);
  options.max_bytes = 1000;
  EXPECT_EQ(ReadFile(path, options)->size(), 1000u);
}

TEST_F(FileTest, NoFollowRefusesLinks) {
  const std::string target = dir_ + "/target";
  const std::string link = dir_ + "/link";
  ASSERT_TRUE(WriteNewFile(target, "x").ok());
  ASSERT_EQ(symlink(target.c_str(), link.c_str()), 0);
  EXPECT_TRUE(ReadFile(link).ok());
  ReadOptions no_follow;
  no_follow.no_follow = true;
  EXPECT_FALSE(ReadFile(link, no_follow).ok());
  // A link planted where a secret is to be created is not followed.
  const std::string planted = dir_ + "/planted";
  ASSERT_EQ(symlink((dir_ + "/elsewhere").c_str(), planted.c_str()), 0);
  EXPECT_FALSE(WriteNewFile(planted, "secret").ok());
  EXPECT_NE(access((dir_ + "/elsewhere").c_str(), F_OK), 0);
}

}  // namespace
}  // namespace trellis
