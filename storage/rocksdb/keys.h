// Key layout. Every key starts with the tree id (8 bytes, big-endian) so one
// tree's data is contiguous; a one-byte tag names the record type:
//   trees CF:  <tree>            -> trillian.Tree (private key cleared)
//              <tree> 'k'        -> wrapped private key
//              <tree> 'n'        -> wrapped checkpoint note key (logs)
//   log CF:    <tree> 'r' <rev>  -> trillian.SignedLogRoot
//              <tree> 'e' <bundle> -> entry bundle: the values of leaves
//                                   [256 bundle, 256 bundle + 256) in C2SP
//                                   form (see leaf_bundle.h)
//              <tree> 'x' <bundle> -> the bundle's sidecar: the rest of
//                                   each integrated LogLeaf
//              <tree> 'v' <idx>  -> the value of an integrated leaf too
//                                   long for a bundle entry (logs without
//                                   entry bundles)
//              <tree> 'l' <idx>  -> trillian.LogLeaf of PREORDERED_LOG
//                                   leaves stored at an index the tree has
//                                   not reached yet (and, before entry
//                                   bundles, of every leaf)
//              <tree> 'b' <seq>  -> the leaves of one QueueLeaves call
//                                   waiting in the queue (u32 length +
//                                   LogLeaf each)
//              <tree> 'q' <seq>  -> one queued LogLeaf (older versions)
//              <tree> 'm' <seq>  -> <idx>: where the first leaf of queue
//                                   record <seq> went (the others follow)
//              <tree> 't' <level> <index>     -> Merkle tile (see tile.h)
//              <tree> 'c'        -> u64 size, latest published checkpoint
//   index CF:  <tree> 'i' <SHA-256(identity hash)[0:8]> -> the positions
//                                   of the leaves whose identity hashes
//                                   give that key (identity_record.h)
//              <tree> 'h' <merkle hash> <idx> -> "" (only for leaves whose
//                                   identity hash is not their Merkle hash;
//                                   the others are found through 'i')
//
// A queued leaf's identity record keeps pointing at its queue position
// after integration ('m' resolves it), so that integrating leaves with the
// default identity writes only keys that grow with the tree or queue, never
// a random one; one queue record, 'm' and delete serve a whole call. Data
// directories from before the index CF kept 'i' and 'h' in the log CF, and
// identity records keyed by the whole hash; index_upgrade.h moves and
// shortens them.
#ifndef TRELLIS_STORAGE_ROCKSDB_KEYS_H_
#define TRELLIS_STORAGE_ROCKSDB_KEYS_H_

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"

namespace trellis::storage::rocksdb::keys {

inline constexpr char kRoot = 'r';
inline constexpr char kLeaf = 'l';
inline constexpr char kHashIndex = 'h';
inline constexpr char kIdentity = 'i';
inline constexpr char kQueue = 'q';
inline constexpr char kQueueIndex = 'm';
inline constexpr char kQueueRecord = 'b';
inline constexpr char kTile = 't';
inline constexpr char kBundle = 'e';
inline constexpr char kSidecar = 'x';
inline constexpr char kLongValue = 'v';
inline constexpr char kPrivateKey = 'k';
inline constexpr char kNoteKey = 'n';
inline constexpr char kCheckpoint = 'c';

std::string Tree(int64_t tree_id);
// <tree> <tag>: the prefix of every record of one type.
std::string Prefix(int64_t tree_id, char tag);
std::string PrivateKey(int64_t tree_id);
std::string NoteKey(int64_t tree_id);
std::string Checkpoint(int64_t tree_id);
std::string Root(int64_t tree_id, uint64_t revision);
std::string Leaf(int64_t tree_id, uint64_t index);
std::string HashIndex(int64_t tree_id, absl::string_view hash, uint64_t index);
std::string Identity(int64_t tree_id, absl::string_view identity_hash);
std::string Queue(int64_t tree_id, uint64_t seq);
std::string QueueIndex(int64_t tree_id, uint64_t seq);
std::string QueueRecord(int64_t tree_id, uint64_t seq);
std::string Tile(int64_t tree_id, uint32_t tile_level, uint64_t tile_index);
std::string Bundle(int64_t tree_id, uint64_t bundle_index);
std::string Sidecar(int64_t tree_id, uint64_t bundle_index);
std::string LongValue(int64_t tree_id, uint64_t index);

// Reads the big-endian uint64 at the end of a key.
uint64_t TrailingUint64(absl::string_view key);
// Reads a big-endian uint64 at `offset`.
uint64_t Uint64At(absl::string_view data, size_t offset);

}  // namespace trellis::storage::rocksdb::keys

#endif  // TRELLIS_STORAGE_ROCKSDB_KEYS_H_
