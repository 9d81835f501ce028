// Merkle nodes of a tlog-tiles log read from its hash tiles, as a client
// reads them: proofs for any two sizes can then be built from what the log
// serves. The tiles are not authenticated here (unlike golang.org/x/mod's
// TileHashReader, which checks them against the tree hash): callers check
// BuildRootHash of the size against its signed root before trusting a
// proof's failure, and verify the proof against the signed roots.
#ifndef TRELLIS_TLOG_TILE_HASH_READER_H_
#define TRELLIS_TLOG_TILE_HASH_READER_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "merkle/proof_builder.h"
#include "tlog/tiles.h"

namespace trellis::tlog {

// Fetches one hash tile (its bytes: width hashes of 32 bytes).
using TileFetcher = std::function<absl::StatusOr<std::string>(const TileId&)>;

class TileHashReader : public merkle::NodeReader {
 public:
  // Reads the tiles of a tree of `tree_size` leaves: full tiles, and the
  // partial tiles of that size at the right edge.
  TileHashReader(uint64_t tree_size, TileFetcher fetch)
      : tree_size_(tree_size), fetch_(std::move(fetch)) {}

  // Unlike NodeReader's NOT_FOUND for a missing node: OUT_OF_RANGE for a
  // node beyond the tree size, DATA_LOSS for a tile of the wrong length,
  // the fetcher's error otherwise. Each tile is fetched once per reader.
  absl::StatusOr<std::vector<std::string>> GetNodes(
      absl::Span<const merkle::NodeID> ids) override;

 private:
  absl::StatusOr<std::string> GetNode(const merkle::NodeID& id);
  absl::StatusOr<const std::string*> Tile(int level, uint64_t index);

  const uint64_t tree_size_;
  const TileFetcher fetch_;
  std::map<std::pair<int, uint64_t>, std::string> tiles_;
};

}  // namespace trellis::tlog

#endif  // TRELLIS_TLOG_TILE_HASH_READER_H_
