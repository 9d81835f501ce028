// What the trellis CLI remembers between runs so that it takes nothing on a
// server's word alone: per server and tree, the tree's public key (pinned
// from --log_public_key, or trusted on first use) and, for logs, the last
// root it verified (every later root must extend it).
//
//   <state_dir>/logs/<escaped server name>/<tree id>.json
//   {"publicKey": B64 DER SubjectPublicKeyInfo,
//    "treeSize": N, "rootHash": B64, "timestampNanos": N}
//
// The root members are absent for maps and until a log's first root. The
// directories are created 0700, the files written 0600 through a temporary
// and a rename.
#ifndef TRELLIS_CMD_TRELLIS_TRUST_STORE_H_
#define TRELLIS_CMD_TRELLIS_TRUST_STORE_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace trellis::cli {

struct RememberedRoot {
  uint64_t tree_size = 0;
  std::string root_hash;
  uint64_t timestamp_nanos = 0;
};

struct TreeState {
  std::string public_key_der;  // Canonical DER SubjectPublicKeyInfo.
  std::optional<RememberedRoot> root;
};

// INVALID_ARGUMENT unless `text` is a state file as above.
absl::StatusOr<TreeState> ParseTreeState(absl::string_view text);
std::string TreeStateJson(const TreeState& state);

// The canonical DER SubjectPublicKeyInfo of a PEM or DER public key, so that
// keys compare byte for byte. INVALID_ARGUMENT if it is not a key.
absl::StatusOr<std::string> CanonicalPublicKey(absl::string_view pem_or_der);

// Hex SHA-256 of a DER key: what messages show of a key.
std::string KeyFingerprint(absl::string_view der);

// $XDG_STATE_HOME/trellis (if set and absolute), else
// $HOME/.local/state/trellis; FAILED_PRECONDITION if neither is set.
absl::StatusOr<std::string> DefaultStateDir();

// A file name for a server name (an address such as "127.0.0.1:8090" or
// "unix:/run/x.sock"): bytes outside [A-Za-z0-9._-], and a leading '.', as
// %XX, so that distinct names stay distinct and none is "." or "..". Long
// names are cut and suffixed with a digest of the whole name.
std::string EscapeServerName(absl::string_view name);

class StateStore {
 public:
  StateStore(std::string state_dir, std::string server_name);

  const std::string& server_name() const { return server_name_; }
  std::string PathFor(int64_t tree_id) const;

  // nullopt when nothing is remembered about the tree yet; an error for a
  // state file that cannot be read or parsed.
  absl::StatusOr<std::optional<TreeState>> Load(int64_t tree_id) const;

  // Creates the directories (0700) and replaces the tree's file atomically
  // (0600).
  absl::Status Save(int64_t tree_id, const TreeState& state) const;

 private:
  std::string state_dir_;
  std::string server_name_;
};

// Per checkpoint origin, the largest C2SP checkpoint the CLI verified, so
// that another checkpoint of that size with another root (a split view) is
// caught: <state_dir>/checkpoints/<escaped origin>.json
// {"treeSize": N, "rootHash": B64}.
class CheckpointMemory {
 public:
  explicit CheckpointMemory(std::string state_dir)
      : state_dir_(std::move(state_dir)) {}

  std::string PathFor(absl::string_view origin) const;
  // nullopt when nothing is remembered for `origin`.
  absl::StatusOr<std::optional<RememberedRoot>> Load(
      absl::string_view origin) const;
  absl::Status Save(absl::string_view origin,
                    const RememberedRoot& checkpoint) const;

 private:
  std::string state_dir_;
};

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_TRUST_STORE_H_
