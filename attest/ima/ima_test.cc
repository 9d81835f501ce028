// IMA lists replayed against a real TPM's PCR 10: a software TPM is
// extended exactly as the kernel would for each entry, and the list, ASCII
// or binary, must replay to what the TPM holds.
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attest/host/tpm_device.h"
#include "attest/ima/measurement_list.h"
#include "attest/ima/runtime_policy.h"
#include "attest/testing/swtpm.h"
#include "attest/tpm/keys.h"
#include "gtest/gtest.h"

namespace trellis::attest::ima {
namespace {

std::string FileDigest(int i) {
  return *tpm::TpmHash(TPM2_ALG_SHA256, absl::StrCat("file contents ", i));
}

void PutLe32(std::string& out, uint32_t v) {
  for (int k = 0; k < 4; ++k) out.push_back(static_cast<char>(v >> (8 * k)));
}

// The kernel's binary_runtime_measurements for ima-ng entries.
std::string Binary(const std::vector<Entry>& entries) {
  std::string out;
  for (const Entry& e : entries) {
    PutLe32(out, e.pcr);
    out += e.template_hash;
    PutLe32(out, e.template_name.size());
    out += e.template_name;
    PutLe32(out, e.template_data.size());
    out += e.template_data;
  }
  return out;
}

class ImaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    device_ = *host::TpmDevice::Open(tpm_.tcti());
    for (int i = 0; i < 60; ++i) {
      entries_.push_back(
          MakeImaNgEntry(absl::StrCat("/usr/bin/tool-", i), FileDigest(i)));
    }
    // A violation: logged with a zero template hash, extended as 0xFF..
    Entry violation = MakeImaNgEntry("/var/log/busy", std::string(32, '\0'));
    violation.template_hash = std::string(20, '\0');
    violation.violation = true;
    entries_.insert(entries_.begin() + 20, violation);
    for (const Entry& e : entries_) {
      const std::string extend =
          e.violation ? std::string(32, '\xff')
                      : *tpm::TpmHash(TPM2_ALG_SHA256, e.template_data);
      ASSERT_TRUE(device_->ExtendPcr(10, extend).ok());
    }
    pcr10_ = (*device_->ReadPcrs(*host::ParsePcrList("sha256:10")))[0].digest;
  }
  std::string Ascii() {
    std::vector<std::string> lines;
    for (const Entry& e : entries_) lines.push_back(FormatAscii(e));
    return absl::StrJoin(lines, "\n") + "\n";
  }

  trellis::testing::Swtpm tpm_;
  std::unique_ptr<host::TpmDevice> device_;
  std::vector<Entry> entries_;
  std::string pcr10_;
};

TEST_F(ImaTest, AsciiAndBinaryListsReplayToTheTpmsPcr10) {
  absl::StatusOr<std::vector<Entry>> ascii = ParseAscii(Ascii());
  ASSERT_TRUE(ascii.ok()) << ascii.status();
  ASSERT_EQ(ascii->size(), entries_.size());
  EXPECT_TRUE((*ascii)[20].violation);
  EXPECT_EQ(*Replay(*ascii, TPM2_ALG_SHA256), pcr10_);
  absl::StatusOr<std::vector<Entry>> binary = ParseBinary(Binary(entries_));
  ASSERT_TRUE(binary.ok()) << binary.status();
  EXPECT_EQ(*Replay(*binary, TPM2_ALG_SHA256), pcr10_);
  EXPECT_EQ((*binary)[5].path, "/usr/bin/tool-5");
  // The one-pass appraisal agrees, and judges only the matched prefix.
  std::vector<std::string> judged;
  absl::StatusOr<ListAppraisal> one_pass = AppraiseAscii(
      Ascii() + FormatAscii(MakeImaNgEntry("/after/quote", FileDigest(7))),
      TPM2_ALG_SHA256, pcr10_,
      [&](absl::string_view path, absl::string_view, bool) -> const char* {
        judged.emplace_back(path);
        return path == "/usr/bin/tool-3" ? "refused" : nullptr;
      });
  ASSERT_TRUE(one_pass.ok()) << one_pass.status();
  EXPECT_EQ(one_pass->matched_entries, entries_.size());
  EXPECT_EQ(judged.size(), entries_.size());  // Not the later entry.
  ASSERT_EQ(one_pass->failures.size(), 1u);
  EXPECT_EQ(one_pass->failures[0].first, "/usr/bin/tool-3");
  // A list that grew after the quote: the matching prefix is found.
  std::vector<Entry> longer = *ascii;
  longer.push_back(MakeImaNgEntry("/usr/bin/later", FileDigest(99)));
  EXPECT_EQ(*MatchingPrefix(longer, TPM2_ALG_SHA256, pcr10_), entries_.size());
}

TEST_F(ImaTest, AlteredEntriesDoNotReplay) {
  // The column hash is not trusted: changing a file digest (and even the
  // column) changes the replay.
  std::string text = Ascii();
  Entry forged = entries_[7];
  forged.file_digest = FileDigest(1234);
  text.replace(text.find(FormatAscii(entries_[7])),
               FormatAscii(entries_[7]).size(), FormatAscii(forged));
  absl::StatusOr<std::vector<Entry>> list = ParseAscii(text);
  ASSERT_TRUE(list.ok());
  EXPECT_NE(*Replay(*list, TPM2_ALG_SHA256), pcr10_);
  EXPECT_FALSE(MatchingPrefix(*list, TPM2_ALG_SHA256, pcr10_).ok());
  // Dropping an entry does not replay either.
  std::vector<Entry> dropped = *ParseAscii(Ascii());
  dropped.erase(dropped.begin() + 3);
  EXPECT_NE(*Replay(dropped, TPM2_ALG_SHA256), pcr10_);
}

TEST(ImaParseTest, RejectsMalformedLists) {
  const Entry good = MakeImaNgEntry("/bin/sh", std::string(32, 'a'));
  const std::string line = FormatAscii(good);
  EXPECT_TRUE(ParseAscii(line).ok());
  EXPECT_TRUE(ParseAscii(" " + line + "\n\n").ok());  // "%2d" padding.
  for (const std::string& bad :
       {std::string("10 abc ima-ng sha256:00 /x"),
        "10 " + std::string(40, '0') + " ima-xx sha256:00 /x",
        "99 " + std::string(40, '0') + " ima-ng sha256:00 /x",
        "10 " + std::string(40, '0') + " ima-ng 00 /x",
        "10 " + std::string(40, '0') + " ima-ng sha256:zz /x",
        "10 " + std::string(40, '0') + " ima-ng sha256:00 /x extra",
        std::string("10")}) {
    EXPECT_FALSE(ParseAscii(bad).ok()) << bad;
  }
  std::string binary;
  PutLe32(binary, 10);
  binary += std::string(20, 'h');
  PutLe32(binary, 6);
  binary += "ima-ng";
  PutLe32(binary, 1000);  // Template data longer than what follows.
  EXPECT_FALSE(ParseBinary(binary).ok());
  for (size_t n = 1; n < 40; ++n) {
    EXPECT_FALSE(ParseBinary(binary.substr(0, n)).ok());
  }
}

TEST(ImaParseTest, CapsPathAndLineLength) {
  const std::string longest = "/" + std::string(kMaxPathBytes - 1, 'p');
  const std::string line =
      FormatAscii(MakeImaNgEntry(longest, FileDigest(1))) + "\n";
  EXPECT_TRUE(ParseAscii(line).ok());
  const std::string too_long =
      FormatAscii(MakeImaNgEntry(longest + "p", FileDigest(1))) + "\n";
  EXPECT_EQ(ParseAscii(too_long).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(ParseAscii(std::string(kMaxLineBytes + 1, '1')).ok());
  const auto judge = [](absl::string_view, absl::string_view, bool) {
    return static_cast<const char*>(nullptr);
  };
  EXPECT_FALSE(
      AppraiseAscii(too_long, TPM2_ALG_SHA256, std::string(32, '\1'), judge)
          .ok());
}

TEST(RuntimePolicyTest, AllowlistAndExcludes) {
  const Entry a = MakeImaNgEntry("/usr/bin/a", FileDigest(1));
  const Entry b = MakeImaNgEntry("/usr/bin/b", FileDigest(2));
  const Entry tmp = MakeImaNgEntry("/tmp/scratch", FileDigest(3));
  const Entry unknown = MakeImaNgEntry("/opt/unknown", FileDigest(4));
  absl::StatusOr<RuntimePolicy> policy = RuntimePolicy::Parse(absl::StrCat(
      R"({"meta": {"version": 5}, "digests": {"/usr/bin/a": [")",
      absl::BytesToHexString(FileDigest(1)), R"("], "/usr/bin/b": [")",
      absl::BytesToHexString(FileDigest(9)),
      R"("]}, "excludes": ["/tmp/.*"]})"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  const auto failures = policy->Evaluate({a, b, tmp, unknown});
  ASSERT_EQ(failures.size(), 2u);
  EXPECT_EQ(failures[0].path, "/usr/bin/b");
  EXPECT_EQ(failures[0].reason, "digest not allowed");
  EXPECT_EQ(failures[1].path, "/opt/unknown");
  EXPECT_EQ(failures[1].reason, "not in allowlist");
  EXPECT_TRUE(policy->Evaluate({a, tmp}).empty());
  for (const char* bad :
       {"[]", R"({"digests": []})", R"({"digests": {"/x": ["12"]}})",
        R"({"digests": {"/x": [1]}})", R"({"excludes": ["("]})", "{oops"}) {
    EXPECT_FALSE(RuntimePolicy::Parse(bad).ok()) << bad;
  }
}

// std::regex recursed once per character here and blew the stack on long
// paths; RE2 matches in linear time.
TEST(RuntimePolicyTest, ExcludesHandleHugePathsInLinearTime) {
  absl::StatusOr<RuntimePolicy> policy =
      RuntimePolicy::Parse(R"({"excludes": ["(a|aa)*b", "/var/log/.*"]})");
  ASSERT_TRUE(policy.ok()) << policy.status();
  const std::string huge(1 << 20, 'a');
  EXPECT_STREQ(policy->Check(huge, "00", false), "not in allowlist");
  EXPECT_EQ(policy->Check(huge + "b", "00", false), nullptr);
  EXPECT_EQ(policy->Check("/var/log/x", "00", false), nullptr);
  // Anchored at the start of the path, as Python's re.match.
  EXPECT_STREQ(policy->Check("/x/var/log/y", "00", false), "not in allowlist");
  // RE2 refuses what it cannot match in linear time (backreferences).
  EXPECT_FALSE(RuntimePolicy::Parse(R"({"excludes": ["(a)\\1"]})").ok());
}

}  // namespace
}  // namespace trellis::attest::ima
