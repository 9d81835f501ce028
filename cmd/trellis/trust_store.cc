#include "cmd/trellis/trust_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "crypto/keys.h"
#include "merkle/hasher.h"
#include "nlohmann/json.hpp"
#include "util/file.h"
#include "util/json_fields.h"

namespace trellis::cli {
namespace {

using nlohmann::json;

// A state file holds a key and a root: anything bigger is not ours.
constexpr size_t kMaxStateBytes = 64 << 10;
// Escaped server names longer than this are cut (NAME_MAX is 255).
constexpr size_t kMaxNameBytes = 128;

// mkdir -p with 0700 for what it creates; existing directories are kept
// as they are.
absl::Status MakeDirs(const std::string& path) {
  for (size_t i = 1; i <= path.size(); ++i) {
    if (i != path.size() && path[i] != '/') continue;
    const std::string prefix = path.substr(0, i);
    if (mkdir(prefix.c_str(), 0700) != 0 && errno != EEXIST) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create ", prefix, ": ", std::strerror(errno)));
    }
  }
  struct stat st;
  if (stat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(path + " is not a directory");
  }
  return absl::OkStatus();
}

// The contents of a state file; nullopt if there is none. Links are not
// followed.
absl::StatusOr<std::optional<std::string>> ReadStateFile(
    const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::nullopt;
    return absl::FailedPreconditionError(
        absl::StrCat("cannot stat ", path, ": ", std::strerror(errno)));
  }
  ReadOptions options;
  options.max_bytes = kMaxStateBytes;
  options.no_follow = true;
  absl::StatusOr<std::string> text = ReadFile(path, options);
  if (!text.ok()) return text.status();
  return std::optional<std::string>(std::move(*text));
}

}  // namespace

absl::StatusOr<TreeState> ParseTreeState(absl::string_view text) {
  absl::StatusOr<json> doc = json_fields::ParseObject(text);
  if (!doc.ok()) return doc.status();
  TreeState state;
  absl::StatusOr<std::string> key = json_fields::Base64(*doc, "publicKey");
  if (!key.ok()) return key.status();
  state.public_key_der = std::move(*key);
  if (json_fields::Find(*doc, "treeSize") == nullptr) return state;
  absl::StatusOr<uint64_t> size = json_fields::Unsigned(*doc, "treeSize");
  absl::StatusOr<std::string> hash = json_fields::Base64(*doc, "rootHash");
  absl::StatusOr<uint64_t> timestamp =
      json_fields::Unsigned(*doc, "timestampNanos");
  for (const absl::Status& s :
       {size.status(), hash.status(), timestamp.status()}) {
    if (!s.ok()) return s;
  }
  state.root = RememberedRoot{*size, std::move(*hash), *timestamp};
  return state;
}

std::string TreeStateJson(const TreeState& state) {
  json doc = {{"publicKey", absl::Base64Escape(state.public_key_der)}};
  if (state.root.has_value()) {
    doc["treeSize"] = state.root->tree_size;
    doc["rootHash"] = absl::Base64Escape(state.root->root_hash);
    doc["timestampNanos"] = state.root->timestamp_nanos;
  }
  return doc.dump(2) + "\n";
}

absl::StatusOr<std::string> CanonicalPublicKey(absl::string_view pem_or_der) {
  absl::StatusOr<crypto::PrivateKey> key = crypto::ParsePublicKey(pem_or_der);
  if (!key.ok()) return key.status();
  return crypto::MarshalPublicKey(**key);
}

std::string KeyFingerprint(absl::string_view der) {
  return absl::BytesToHexString(merkle::Sha256(der));
}

absl::StatusOr<std::string> DefaultStateDir() {
  // XDG: a relative $XDG_STATE_HOME is invalid and ignored.
  const char* xdg = std::getenv("XDG_STATE_HOME");
  if (xdg != nullptr && xdg[0] == '/') return absl::StrCat(xdg, "/trellis");
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') {
    return absl::StrCat(home, "/.local/state/trellis");
  }
  return absl::FailedPreconditionError(
      "neither $XDG_STATE_HOME nor $HOME is set: pass --state_dir");
}

std::string EscapeServerName(absl::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    const unsigned char c = name[i];
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' ||
        (c == '.' && i != 0)) {
      out.push_back(c);
    } else {
      absl::StrAppendFormat(&out, "%%%02X", c);
    }
  }
  if (out.empty()) return "%";  // Not an escape of anything.
  if (out.size() > kMaxNameBytes) {
    // '~' never appears in an escaped name, so a cut one is still distinct.
    out = absl::StrCat(
        out.substr(0, kMaxNameBytes - 33), "~",
        absl::BytesToHexString(merkle::Sha256(name)).substr(0, 32));
  }
  return out;
}

StateStore::StateStore(std::string state_dir, std::string server_name)
    : state_dir_(std::move(state_dir)), server_name_(std::move(server_name)) {}

std::string StateStore::PathFor(int64_t tree_id) const {
  return absl::StrCat(state_dir_, "/logs/", EscapeServerName(server_name_), "/",
                      tree_id, ".json");
}

absl::StatusOr<std::optional<TreeState>> StateStore::Load(
    int64_t tree_id) const {
  const std::string path = PathFor(tree_id);
  absl::StatusOr<std::optional<std::string>> text = ReadStateFile(path);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return std::nullopt;
  absl::StatusOr<TreeState> state = ParseTreeState(**text);
  if (!state.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", state.status().message()));
  }
  return std::optional<TreeState>(std::move(*state));
}

absl::Status StateStore::Save(int64_t tree_id, const TreeState& state) const {
  const std::string dir =
      absl::StrCat(state_dir_, "/logs/", EscapeServerName(server_name_));
  if (absl::Status s = MakeDirs(dir); !s.ok()) return s;
  return ReplaceFile(PathFor(tree_id), TreeStateJson(state), 0600);
}

std::string CheckpointMemory::PathFor(absl::string_view origin) const {
  return absl::StrCat(state_dir_, "/checkpoints/", EscapeServerName(origin),
                      ".json");
}

absl::StatusOr<std::optional<RememberedRoot>> CheckpointMemory::Load(
    absl::string_view origin) const {
  const std::string path = PathFor(origin);
  absl::StatusOr<std::optional<std::string>> text = ReadStateFile(path);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return std::nullopt;
  absl::StatusOr<json> doc = json_fields::ParseObject(**text);
  absl::StatusOr<uint64_t> size =
      doc.ok() ? json_fields::Unsigned(*doc, "treeSize") : doc.status();
  absl::StatusOr<std::string> hash =
      doc.ok() ? json_fields::Base64(*doc, "rootHash") : doc.status();
  if (!size.ok() || !hash.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": ", (size.ok() ? hash.status() : size.status()).message()));
  }
  return std::optional<RememberedRoot>(RememberedRoot{*size, *hash, 0});
}

absl::Status CheckpointMemory::Save(absl::string_view origin,
                                    const RememberedRoot& checkpoint) const {
  if (absl::Status s = MakeDirs(state_dir_ + "/checkpoints"); !s.ok()) return s;
  const json doc = {{"treeSize", checkpoint.tree_size},
                    {"rootHash", absl::Base64Escape(checkpoint.root_hash)}};
  return ReplaceFile(PathFor(origin), doc.dump() + "\n", 0600);
}

}  // namespace trellis::cli
