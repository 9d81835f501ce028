// libFuzzer target: stored map tiles and nodes (what a corrupted database
// could hand the map) must parse or fail cleanly, never misread.
#include <cstddef>
#include <cstdint>
#include <string>

#include "merkle/smt/tile.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace trellis::merkle::smt;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  if (auto tile = Tile::Parse(bytes); tile.ok()) {
    for (const PlacedNode& node : tile->Nodes()) {
      tile->Find(node.level, node.offset);
      tile->FindBelow(node.level, node.offset);
    }
    tile->FindBelow(0, 0);
  }
  DecodeNodeEntry(bytes).IgnoreError();
  return 0;
}
