#include "policy/frames.h"

#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "gtest/gtest.h"

namespace trellis::policy {
namespace {

class FramesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, ends_), 0);
  }
  void TearDown() override {
    close(ends_[0]);
    if (ends_[1] >= 0) close(ends_[1]);
  }
  void SendRaw(const std::string& bytes) {
    ASSERT_EQ(write(ends_[1], bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }
  int ends_[2] = {-1, -1};
};

TEST_F(FramesTest, FieldsRoundTrip) {
  const std::string big(100000, 'x');
  ASSERT_TRUE(
      WriteFrame(ends_[1], {"eval", "", big, std::string(3, '\0')}).ok());
  auto fields = ReadFrame(ends_[0], absl::Now() + absl::Seconds(5));
  ASSERT_TRUE(fields.ok()) << fields.status();
  EXPECT_EQ(*fields,
            (std::vector<std::string>{"eval", "", big, std::string(3, '\0')}));
}

TEST_F(FramesTest, MalformedFramesAreDataLoss) {
  // A frame claiming more than the limit.
  SendRaw(std::string("\x7f\xff\xff\xff", 4));
  EXPECT_TRUE(absl::IsDataLoss(ReadFrame(ends_[0]).status()));
}

TEST_F(FramesTest, AFieldLongerThanItsFrameIsDataLoss) {
  // A 6-byte frame whose field claims 100 bytes.
  SendRaw(std::string("\0\0\0\x06\0\0\0\x64xy", 10));
  EXPECT_TRUE(absl::IsDataLoss(ReadFrame(ends_[0]).status()));
}

TEST_F(FramesTest, APeerGoneMidFrameIsUnavailable) {
  SendRaw(std::string("\0\0\0\x10\0\0", 6));
  close(ends_[1]);
  ends_[1] = -1;
  EXPECT_TRUE(absl::IsUnavailable(ReadFrame(ends_[0]).status()));
}

TEST_F(FramesTest, NothingByTheDeadlineIsDeadlineExceeded) {
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      ReadFrame(ends_[0], absl::Now() + absl::Milliseconds(50)).status()));
}

TEST_F(FramesTest, OversizedWritesAreRefusedUnsent) {
  const std::string huge(kMaxFrameBytes, 'x');
  EXPECT_TRUE(absl::IsInvalidArgument(WriteFrame(ends_[1], {huge})));
  EXPECT_TRUE(absl::IsDeadlineExceeded(
      ReadFrame(ends_[0], absl::Now() + absl::Milliseconds(20)).status()));
}

}  // namespace
}  // namespace trellis::policy
