#include "merkle/hasher.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"
#include "merkle/compact_range.h"
#include "merkle/reference_tree.h"

namespace trellis::merkle {
namespace {

std::string Hex(const std::string& s) { return absl::BytesToHexString(s); }

TEST(HasherTest, KnownValues) {
  EXPECT_EQ(Hex(EmptyRoot()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 6962 leaf hash of the empty value: SHA-256(0x00).
  EXPECT_EQ(Hex(HashLeaf("")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
  EXPECT_EQ(Hex(HashChildren(HashLeaf(""), HashLeaf(""))),
            Hex(Sha256(std::string("\x01", 1) + HashLeaf("") + HashLeaf(""))));
}

// Roots of the eight-leaf tree used by Certificate Transparency's test suite.
TEST(HasherTest, CertificateTransparencyTreeRoots) {
  const std::vector<std::string> values = {
      "",
      std::string("\x00", 1),
      "\x10",
      "\x20\x21",
      "\x30\x31",
      "\x40\x41\x42\x43",
      "\x50\x51\x52\x53\x54\x55\x56\x57",
      "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
  const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  CompactRange range;
  for (size_t i = 0; i < values.size(); ++i) {
    range.Append(HashLeaf(values[i]), nullptr);
    EXPECT_EQ(Hex(range.Root()), roots[i]) << "size " << i + 1;
  }
}

TEST(CompactRangeTest, MatchesReferenceAndVisitsEveryNodeOnce) {
  const std::vector<std::string> leaves = NumberedLeafHashes(1100);
  ReferenceTree ref(leaves);
  CompactRange range;
  EXPECT_EQ(range.Root(), EmptyRoot());
  std::vector<NodeID> visited;
  for (size_t i = 0; i < leaves.size(); ++i) {
    range.Append(leaves[i], [&](const NodeID& id, const std::string& hash) {
      visited.push_back(id);
      EXPECT_EQ(hash, ref.Hash(id.Begin(), id.End()))
          << "level " << id.level << " index " << id.index;
    });
    ASSERT_EQ(range.Root(), ref.Root(i + 1)) << "size " << i + 1;
  }
  // A tree of n leaves has exactly 2n - popcount(n) perfect subtrees.
  EXPECT_EQ(visited.size(), 2 * 1100 - 4);
}

TEST(CompactRangeTest, FromHashesRestoresState) {
  const std::vector<std::string> leaves = NumberedLeafHashes(77);
  CompactRange full;
  for (int i = 0; i < 50; ++i) full.Append(leaves[i], nullptr);
  auto restored = CompactRange::FromHashes(50, full.hashes());
  ASSERT_TRUE(restored.ok());
  for (int i = 50; i < 77; ++i) {
    full.Append(leaves[i], nullptr);
    restored->Append(leaves[i], nullptr);
  }
  EXPECT_EQ(restored->Root(), full.Root());
  EXPECT_FALSE(CompactRange::FromHashes(50, {}).ok());
  EXPECT_FALSE(CompactRange::FromHashes(1, {std::string("short")}).ok());
}

TEST(NodeIdTest, DecomposeRangeCoversExactly) {
  for (uint64_t begin = 0; begin < 70; ++begin) {
    for (uint64_t end = begin; end < 140; ++end) {
      uint64_t next = begin;
      for (const NodeID& id : DecomposeRange(begin, end)) {
        ASSERT_EQ(id.Begin(), next);
        next = id.End();
      }
      ASSERT_EQ(next, end);
    }
  }
}

}  // namespace
}  // namespace trellis::merkle
