// libFuzzer target: the storage records read back from RocksDB, whose
// decoders must refuse (DATA_LOSS), never crash, on a corrupt value.
// Byte 0 chooses the record; for entry bundles, bytes 1-2 give the length
// of the bundle part, the rest being its sidecar.
#include <cstddef>
#include <cstdint>
#include <string>

#include "storage/rocksdb/identity_record.h"
#include "storage/rocksdb/leaf_bundle.h"
#include "storage/rocksdb/root_record.h"
#include "storage/rocksdb/tile.h"

namespace rocksdb_storage = trellis::storage::rocksdb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: {
      if (bytes.size() < 2) return 0;
      const size_t split = (static_cast<uint8_t>(bytes[0]) << 8) |
                           static_cast<uint8_t>(bytes[1]);
      const std::string rest = bytes.substr(2);
      const size_t cut = split < rest.size() ? split : rest.size();
      auto bundle = rocksdb_storage::LeafBundle::Decode(rest.substr(0, cut),
                                                        rest.substr(cut));
      if (bundle.ok()) {
        for (size_t i = 0; i < bundle->size(); ++i) {
          bundle->Leaf(i, i, std::string(32, 'h')).SerializeAsString();
          bundle->EntriesPrefix(i + 1).status().IgnoreError();
        }
        if (bundle->size() > 0 && !bundle->full()) {
          bundle->Append(bundle->Leaf(0, 0, std::string(32, 'h')))
              .IgnoreError();
        }
      }
      break;
    }
    case 1:
      rocksdb_storage::DecodePositions(bytes).status().IgnoreError();
      break;
    case 2: {
      for (uint32_t row = 0; row < rocksdb_storage::kTileHeight; ++row) {
        rocksdb_storage::ReadTileNode(bytes, row, 0).status().IgnoreError();
      }
      rocksdb_storage::TileRowPrefix(bytes, 1).status().IgnoreError();
      auto tile = rocksdb_storage::Tile::Decode(bytes);
      if (tile.ok()) tile->Encode().status().IgnoreError();
      break;
    }
    case 3:
      rocksdb_storage::DecodeRootRecord(bytes).status().IgnoreError();
      break;
  }
  return 0;
}
