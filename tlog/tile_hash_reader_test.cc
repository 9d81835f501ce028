#include "tlog/tile_hash_reader.h"

#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "merkle/hasher.h"
#include "merkle/proof_builder.h"
#include "merkle/verifier.h"

namespace trellis::tlog {
namespace {

// RFC 6962's Merkle tree hash by its definition, as the reference.
std::string TreeHash(const std::vector<std::string>& leaves, uint64_t begin,
                     uint64_t end) {
  if (end - begin == 1) return leaves[begin];
  uint64_t split = 1;
  while (split * 2 < end - begin) split *= 2;
  return merkle::HashChildren(TreeHash(leaves, begin, begin + split),
                              TreeHash(leaves, begin + split, end));
}

// A log's hash tiles, computed from the definition: tile (L, N) holds the
// hashes of the subtrees of 256^L leaves numbered 256N onwards.
class ReferenceLog {
 public:
  explicit ReferenceLog(uint64_t size) {
    for (uint64_t i = 0; i < size; ++i) {
      leaves_.push_back(merkle::HashLeaf("leaf " + std::to_string(i)));
    }
    for (int level = 0; (uint64_t{1} << (8 * level)) <= size; ++level) {
      const uint64_t span = uint64_t{1} << (8 * level);
      for (uint64_t j = 0; (j + 1) * span <= size; ++j) {
        tiles_[{level, j / 256}] += TreeHash(leaves_, j * span, (j + 1) * span);
      }
    }
  }

  std::string Root(uint64_t size) const { return TreeHash(leaves_, 0, size); }

  // Serves tiles as a log would: full ones, or truncated to the width.
  TileFetcher Fetcher(std::vector<TileId>* fetched = nullptr) {
    return [this, fetched](const TileId& id) -> absl::StatusOr<std::string> {
      if (fetched != nullptr) fetched->push_back(id);
      auto it = tiles_.find({id.level, id.index});
      if (it == tiles_.end() || it->second.size() < id.width * 32u) {
        return absl::NotFoundError("no such tile");
      }
      return it->second.substr(0, id.width * 32);
    };
  }

  std::map<std::pair<int, uint64_t>, std::string>& tiles() { return tiles_; }

 private:
  std::vector<std::string> leaves_;
  std::map<std::pair<int, uint64_t>, std::string> tiles_;
};

TEST(TileHashReaderTest, ProofsFromTilesVerifyAgainstTheDefinition) {
  ReferenceLog log(70000);
  const uint64_t sizes[] = {1,   2,    7,     255,   256,   257,   300,
                            511, 4096, 65535, 65536, 65537, 69999, 70000};
  for (uint64_t n : sizes) {
    TileHashReader reader(n, log.Fetcher());
    const std::string root = log.Root(n);
    absl::StatusOr<std::string> built = merkle::BuildRootHash(n, reader);
    ASSERT_TRUE(built.ok()) << n << ": " << built.status();
    EXPECT_EQ(*built, root) << n;
    for (uint64_t m : sizes) {
      if (m > n) break;
      absl::StatusOr<std::vector<std::string>> proof =
          merkle::BuildConsistencyProof(m, n, reader);
      ASSERT_TRUE(proof.ok()) << m << " -> " << n << ": " << proof.status();
      EXPECT_TRUE(
          merkle::VerifyConsistency(m, n, log.Root(m), root, *proof).ok())
          << m << " -> " << n;
    }
    for (uint64_t index : {uint64_t{0}, n / 2, n - 1}) {
      absl::StatusOr<std::vector<std::string>> proof =
          merkle::BuildInclusionProof(index, n, reader);
      ASSERT_TRUE(proof.ok()) << index << " in " << n;
      EXPECT_TRUE(merkle::VerifyInclusion(
                      index, n,
                      merkle::HashLeaf("leaf " + std::to_string(index)), *proof,
                      root)
                      .ok())
          << index << " in " << n;
    }
  }
}

TEST(TileHashReaderTest, FetchesEachTileOnceAtTheWidthOfTheSize) {
  ReferenceLog log(70000);
  std::vector<TileId> fetched;
  TileHashReader reader(66000, log.Fetcher(&fetched));
  ASSERT_TRUE(merkle::BuildConsistencyProof(300, 66000, reader).ok());
  ASSERT_TRUE(merkle::BuildConsistencyProof(1000, 66000, reader).ok());
  std::map<std::pair<int, uint64_t>, int> widths;
  for (const TileId& id : fetched) {
    EXPECT_FALSE(widths.count({id.level, id.index}))
        << id.level << "/" << id.index << " fetched twice";
    widths[{id.level, id.index}] = id.width;
  }
  // 66000 leaves: level 0's last tile holds 66000 - 257 * 256 = 208 hashes,
  // level 1's 257 - 256 = 1, and level 2 has one full-tree node.
  EXPECT_EQ(widths.at({0, 257}), 208);
  EXPECT_EQ(widths.at({1, 1}), 1);
  EXPECT_EQ(widths.at({1, 0}), 256);
}

TEST(TileHashReaderTest, TamperedOrShortTilesAndNodesBeyondTheSizeFail) {
  ReferenceLog log(1000);
  const std::string root300 = log.Root(300), root1000 = log.Root(1000);
  // A changed hash in the tile above [0, 256) no longer proves 300 -> 1000.
  log.tiles().at({1, 0})[5] ^= 1;
  TileHashReader tampered(1000, log.Fetcher());
  absl::StatusOr<std::vector<std::string>> proof =
      merkle::BuildConsistencyProof(300, 1000, tampered);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_FALSE(
      merkle::VerifyConsistency(300, 1000, root300, root1000, *proof).ok());

  TileHashReader short_tiles(1000, [](const TileId&) {
    return absl::StatusOr<std::string>(std::string(31, 'x'));
  });
  EXPECT_EQ(merkle::BuildRootHash(1000, short_tiles).status().code(),
            absl::StatusCode::kDataLoss);

  TileHashReader reader(1000, log.Fetcher());
  const merkle::NodeID beyond[] = {
      {0, 1000}, {8, 3}, {63, 1}, {70, 0}, {0, ~uint64_t{0}}};
  for (const merkle::NodeID& id : beyond) {
    EXPECT_EQ(reader.GetNodes({id}).status().code(),
              absl::StatusCode::kOutOfRange)
        << id.level << "/" << id.index;
  }
  TileHashReader unserved(1000, [](const TileId&) {
    return absl::StatusOr<std::string>(absl::UnavailableError("offline"));
  });
  EXPECT_EQ(merkle::BuildRootHash(1000, unserved).status().code(),
            absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace trellis::tlog
