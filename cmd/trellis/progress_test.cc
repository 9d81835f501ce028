#include "cmd/trellis/progress.h"

#include <cstdio>
#include <cstdlib>
#include <string>

#include "gtest/gtest.h"

namespace trellis::cli {
namespace {

// What a Progress wrote, through a memory stream.
class Captured {
 public:
  Captured() : stream_(open_memstream(&buffer_, &size_)) {}
  ~Captured() {
    std::fclose(stream_);
    std::free(buffer_);
  }
  std::FILE* stream() { return stream_; }
  std::string text() {
    std::fflush(stream_);
    return std::string(buffer_, size_);
  }

 private:
  char* buffer_ = nullptr;
  size_t size_ = 0;
  std::FILE* stream_;
};

TEST(ProgressTest, BarRateEtaAndAFinalLine) {
  Captured out;
  absl::Time now = absl::FromUnixSeconds(100);
  {
    Progress progress("append:", 1000, "leaves", /*shown=*/true, out.stream(),
                      [&] { return now; });
    now += absl::Seconds(1);
    progress.Add(250);
    EXPECT_EQ(out.text(),
              "\rappend: [######..................] 25% 250/1000 leaves  "
              "250/s  ETA 3.0s");
    now += absl::Milliseconds(50);
    progress.Add(250);  // Within 100 ms of the last line: not redrawn.
    EXPECT_EQ(out.text().find("500/1000"), std::string::npos);
    now += absl::Milliseconds(950);
    progress.Add(500);
  }  // Finished by the destructor.
  const std::string text = out.text();
  EXPECT_NE(text.find("\rappend: [########################] 100% 1000/1000 "
                      "leaves in 2.0s (500/s)\n"),
            std::string::npos)
      << text;
}

TEST(ProgressTest, UnknownTotalsCountAndHiddenProgressWritesNothing) {
  Captured out;
  absl::Time now = absl::FromUnixSeconds(100);
  Progress counting("verify: tree 7", 0, "leaves checked", true, out.stream(),
                    [&] { return now; });
  now += absl::Seconds(2);
  counting.Set(2000000);
  counting.Finish();
  counting.Finish();  // Once.
  EXPECT_EQ(out.text(),
            "\rverify: tree 7 2000000 leaves checked  1.0M/s"
            "\rverify: tree 7 2000000 leaves checked in 2.0s (1.0M/s)\n");

  Captured hidden;
  {
    Progress quiet("append:", 10, "leaves", /*shown=*/false, hidden.stream());
    quiet.Add(10);
  }
  EXPECT_EQ(hidden.text(), "");
}

TEST(ProgressTest, Modes) {
  EXPECT_TRUE(SetProgressMode("always").ok());
  EXPECT_TRUE(ProgressShown());
  EXPECT_TRUE(SetProgressMode("never").ok());
  EXPECT_FALSE(ProgressShown());
  EXPECT_FALSE(SetProgressMode("sometimes").ok());
}

}  // namespace
}  // namespace trellis::cli
