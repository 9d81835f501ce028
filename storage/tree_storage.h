// Storage of tree metadata and signing keys, independent of any backend.
#ifndef TRELLIS_STORAGE_TREE_STORAGE_H_
#define TRELLIS_STORAGE_TREE_STORAGE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "trillian.pb.h"

namespace trellis::storage {

class TreeStorage {
 public:
  virtual ~TreeStorage() = default;

  // Stores a new tree (tree.tree_id already assigned, tree.private_key
  // cleared), its wrapped private key and, for logs, its wrapped checkpoint
  // note key (empty: none), atomically. ALREADY_EXISTS if the id is taken.
  virtual absl::Status CreateTree(const trillian::Tree& tree,
                                  absl::string_view wrapped_private_key,
                                  absl::string_view wrapped_note_key) = 0;

  // The tree, deleted or not. NOT_FOUND if it never existed.
  virtual absl::StatusOr<trillian::Tree> GetTree(int64_t tree_id) = 0;

  // All trees, in tree id order; soft-deleted ones only if asked.
  virtual absl::StatusOr<std::vector<trillian::Tree>> ListTrees(
      bool include_deleted) = 0;

  // Reads a tree, lets `mutate` change it, and stores the result, atomically
  // with respect to other updates. NOT_FOUND if absent; an error from
  // `mutate` aborts the update. Returns the stored tree.
  virtual absl::StatusOr<trillian::Tree> UpdateTree(
      int64_t tree_id,
      const std::function<absl::Status(trillian::Tree&)>& mutate) = 0;

  // The wrapped private key stored with the tree.
  virtual absl::StatusOr<std::string> GetWrappedPrivateKey(int64_t tree_id) = 0;

  // The wrapped checkpoint note key of a log; NOT_FOUND if it has none.
  virtual absl::StatusOr<std::string> GetWrappedNoteKey(int64_t tree_id) = 0;

  // Gives a tree created without one a note key, and lets `mutate` change
  // the tree record in the same atomic write. ALREADY_EXISTS if it has one.
  virtual absl::StatusOr<trillian::Tree> AddNoteKey(
      int64_t tree_id, absl::string_view wrapped_note_key,
      const std::function<absl::Status(trillian::Tree&)>& mutate) = 0;
};

}  // namespace trellis::storage

#endif  // TRELLIS_STORAGE_TREE_STORAGE_H_
