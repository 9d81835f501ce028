#include "explorer/server/explorer_http.h"

#include <dirent.h>

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "trellis_settings.pb.h"
#include "util/file.h"

namespace trellis::explorer {
namespace {

using log::AtHead;
using log::InclusionProof;
using log::LogManager;

using nlohmann::json;

constexpr char kLogPrefix[] = R"(/explorer/api/logs/([1-9][0-9]{0,18})/)";
constexpr char kHex64[] = "([0-9a-fA-F]{64})";
// The pages are small; anything larger in the directory is not ours.
constexpr size_t kMaxFileBytes = size_t{4} << 20;
constexpr size_t kMaxFiles = 64;
// Scripts and styles from this origin only, no framing, no sniffing.
constexpr char kPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'none'";

struct File {
  std::string content_type;
  std::string body;
};
using Files = std::map<std::string, File>;  // By path under /explorer/.

int HttpStatusOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kFailedPrecondition:
      return 409;
    default:
      return 500;
  }
}

void Reply(http::Response& response, json body) {
  response.content_type = "application/json";
  response.body = body.dump();
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
}

void Fail(http::Response& response, const absl::Status& status) {
  response.status = HttpStatusOf(status);
  Reply(response,
        {{"error", response.status == 500 ? std::string("internal error")
                                          : std::string(status.message())}});
}

// A required unsigned query parameter.
absl::StatusOr<int64_t> Number(const http::Request& request,
                               absl::string_view name) {
  int64_t value = 0;
  if (!absl::SimpleAtoi(request.QueryParam(name), &value) || value < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " must be a non-negative integer"));
  }
  return value;
}

json Hashes(const std::vector<std::string>& hashes) {
  json out = json::array();
  for (const std::string& hash : hashes)
    out.push_back(absl::Base64Escape(hash));
  return out;
}

// Sizes and indices as decimal strings: JavaScript numbers stop being exact
// at 2^53. extra_data stays out: the tiles never publish it.
json LeafJson(const trillian::LogLeaf& leaf, int64_t tree_size,
              const std::vector<std::string>& proof) {
  return {{"leafIndex", absl::StrCat(leaf.leaf_index())},
          {"leafValue", absl::Base64Escape(leaf.leaf_value())},
          {"treeSize", absl::StrCat(tree_size)},
          {"proof", Hashes(proof)}};
}

// Leaves are shown only for logs whose tiles publish them (entry bundles):
// the explorer serves nothing the tiles do not.
absl::Status PublishesEntries(storage::TreeStorage* trees, int64_t log_id) {
  absl::StatusOr<trillian::Tree> tree = trees->GetTree(log_id);
  if (!tree.ok()) return tree.status();
  trellis::LogSettings settings;
  if (tree->tree_type() == trillian::MAP ||
      !tree->storage_settings().UnpackTo(&settings) ||
      !settings.entry_bundles()) {
    return absl::NotFoundError(
        absl::StrCat("tree ", log_id,
                     " does not publish its entries (a map, or a log "
                     "created with entry_bundles off)"));
  }
  return absl::OkStatus();
}

const absl::Status kBeyondRoot =
    absl::NotFoundError("tree_size is beyond the log's latest signed root");

absl::StatusOr<json> TreesJson(storage::TreeStorage* trees) {
  absl::StatusOr<std::vector<trillian::Tree>> listed =
      trees->ListTrees(/*include_deleted=*/false);
  if (!listed.ok()) return listed.status();
  json out = json::array();
  for (const trillian::Tree& tree : *listed) {
    trellis::LogSettings settings;
    if (tree.tree_type() != trillian::MAP) {
      tree.storage_settings().UnpackTo(&settings);
    }
    json entry = {
        {"treeId", absl::StrCat(tree.tree_id())},
        {"treeType", trillian::TreeType_Name(tree.tree_type())},
        {"treeState", trillian::TreeState_Name(tree.tree_state())},
        {"displayName", tree.display_name()},
        {"hashStrategy", trillian::HashStrategy_Name(tree.hash_strategy())},
        // DER SubjectPublicKeyInfo: what signs a map's roots.
        {"publicKey", absl::Base64Escape(tree.public_key().der())},
        {"origin", settings.origin()},
        {"noteVerifierKey", settings.note_verifier_key()},
        {"witnessPolicy", settings.witness_policy()}};
    out.push_back(std::move(entry));
  }
  return json{{"trees", std::move(out)}};
}

std::string ContentTypeOf(const std::string& name) {
  if (absl::EndsWith(name, ".html")) return "text/html; charset=utf-8";
  if (absl::EndsWith(name, ".js")) return "text/javascript; charset=utf-8";
  if (absl::EndsWith(name, ".css")) return "text/css; charset=utf-8";
  if (absl::EndsWith(name, ".svg")) return "image/svg+xml";
  if (absl::EndsWith(name, ".png")) return "image/png";
  return "application/octet-stream";
}

absl::Status AddFile(const std::string& path, const std::string& served_as,
                     Files& files) {
  if (files.size() >= kMaxFiles) {
    return absl::FailedPreconditionError("too many explorer files");
  }
  ReadOptions options;
  options.max_bytes = kMaxFileBytes;
  options.no_follow = true;
  absl::StatusOr<std::string> body = ReadFile(path, options);
  if (!body.ok()) return body.status();
  files[served_as] = {ContentTypeOf(path), *std::move(body)};
  return absl::OkStatus();
}

// index.html and assets/* of a Vite build.
absl::StatusOr<Files> LoadFiles(const std::string& dir) {
  Files files;
  if (absl::Status s = AddFile(dir + "/index.html", "", files); !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("explorer files: ", s.message()));
  }
  std::unique_ptr<DIR, int (*)(DIR*)> assets(opendir((dir + "/assets").c_str()),
                                             closedir);
  if (assets == nullptr) return files;
  while (const dirent* entry = readdir(assets.get())) {
    const std::string name = entry->d_name;
    if (name == "." || name == "..") continue;
    if (name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrs"
                               "tuvwxyz0123456789._-") != std::string::npos) {
      continue;  // Not a name the build makes.
    }
    if (absl::Status s = AddFile(absl::StrCat(dir, "/assets/", name),
                                 "assets/" + name, files);
        !s.ok()) {
      return s;
    }
  }
  return files;
}

void ServeFile(const File& file, bool immutable, http::Response& response) {
  response.content_type = file.content_type;
  response.body = file.body;
  response.headers.emplace_back(
      "Cache-Control",
      immutable ? "public, max-age=31536000, immutable" : "no-cache");
  response.headers.emplace_back("Content-Security-Policy", kPolicy);
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
}

// Whether the explorer serves map `map_id`'s leaves: NOT_FOUND for trees
// that are not maps, PERMISSION_DENIED for maps it does not serve.
absl::Status ServesMap(const ExplorerSources& sources, int64_t map_id) {
  absl::StatusOr<trillian::Tree> tree = sources.trees->GetTree(map_id);
  if (!tree.ok()) return tree.status();
  if (tree->tree_type() != trillian::MAP || tree->deleted()) {
    return absl::NotFoundError(absl::StrCat("tree ", map_id, " is not a map"));
  }
  if (sources.all_maps) return absl::OkStatus();
  if (sources.identity_map_id) {
    absl::StatusOr<int64_t> identities = sources.identity_map_id();
    if (!identities.ok()) return identities.status();
    if (*identities == map_id) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(absl::StrCat(
      "this server shows only its identity map (trellisd --explorer_maps "
      "shows map ",
      map_id, " too)"));
}

// A map leaf by index (hex) at ?revision= (latest without), with its 256
// sibling hashes ("" for an empty subtree) and the signed map root. An
// empty leafHash means the index is unset (a set leaf may hold "").
void AddMapRoute(const ExplorerSources& sources, http::Router& router) {
  router.Get(
      absl::StrCat(R"(/explorer/api/maps/([1-9][0-9]{0,18})/leaves/)", kHex64),
      [sources](const http::Request& request, http::Response& response) {
        int64_t map_id = 0;
        if (!absl::SimpleAtoi(request.path_params[0], &map_id)) {
          return Fail(response, absl::InvalidArgumentError("bad path"));
        }
        if (absl::Status s = ServesMap(sources, map_id); !s.ok()) {
          return Fail(response, s);
        }
        int64_t revision = -1;
        if (request.HasQueryParam("revision")) {
          absl::StatusOr<int64_t> asked = Number(request, "revision");
          if (!asked.ok()) return Fail(response, asked.status());
          revision = *asked;
        }
        google::protobuf::RepeatedPtrField<std::string> indices;
        indices.Add(absl::HexStringToBytes(request.path_params[1]));
        absl::StatusOr<map::MapManager::Leaves> leaves =
            sources.maps->GetLeaves(map_id, revision, indices,
                                    /*with_proofs=*/true);
        if (!leaves.ok()) return Fail(response, leaves.status());
        const trillian::MapLeafInclusion& inclusion = leaves->inclusions[0];
        Reply(response,
              {{"index", absl::Base64Escape(inclusion.leaf().index())},
               {"leafHash", absl::Base64Escape(inclusion.leaf().leaf_hash())},
               {"leafValue", absl::Base64Escape(inclusion.leaf().leaf_value())},
               {"proof",
                Hashes(std::vector<std::string>(inclusion.inclusion().begin(),
                                                inclusion.inclusion().end()))},
               {"mapRoot", absl::Base64Escape(leaves->root.map_root())},
               {"signature", absl::Base64Escape(leaves->root.signature())}});
      });
}

// The evidence with a SHA-256 digest (hex), as stored (base64: the page
// hashes these exact bytes).
void AddEvidenceRoute(EvidenceSource evidence, http::Router& router) {
  router.Get(
      absl::StrCat("/explorer/api/evidence/", kHex64),
      [evidence](const http::Request& request, http::Response& response) {
        if (!evidence) {
          return Fail(response, absl::PermissionDeniedError(
                                    "this server does not serve attestation "
                                    "evidence (trellisd --explorer_evidence)"));
        }
        absl::StatusOr<std::string> stored =
            evidence(absl::HexStringToBytes(request.path_params[0]));
        if (!stored.ok()) return Fail(response, stored.status());
        Reply(response, {{"evidence", absl::Base64Escape(*stored)}});
      });
}

}  // namespace

absl::Status AddExplorerRoutes(const ExplorerSources& sources,
                               const std::string& files_dir,
                               http::Router& router) {
  storage::TreeStorage* const trees = sources.trees;
  LogManager* const logs = sources.logs;
  router.Get("/explorer/api/trees",
             [trees](const http::Request&, http::Response& response) {
               absl::StatusOr<json> answer = TreesJson(trees);
               if (!answer.ok()) return Fail(response, answer.status());
               Reply(response, *std::move(answer));
             });

  // A leaf by index with its inclusion proof at tree_size.
  router.Get(
      absl::StrCat(kLogPrefix, R"(leaves/([0-9]{1,19}))"),
      [trees, logs](const http::Request& request, http::Response& response) {
        int64_t log_id = 0, index = 0;
        if (!absl::SimpleAtoi(request.path_params[0], &log_id) ||
            !absl::SimpleAtoi(request.path_params[1], &index)) {
          return Fail(response, absl::InvalidArgumentError("bad path"));
        }
        if (absl::Status s = PublishesEntries(trees, log_id); !s.ok()) {
          return Fail(response, s);
        }
        absl::StatusOr<int64_t> size = Number(request, "tree_size");
        if (!size.ok()) return Fail(response, size.status());
        absl::StatusOr<AtHead<LogManager::Entry>> entry =
            logs->EntryAndProof(log_id, index, *size);
        if (!entry.ok()) return Fail(response, entry.status());
        // EntryAndProof answers a size beyond the root at the root.
        if (!entry->value.has_value() ||
            static_cast<uint64_t>(*size) > entry->head.root.tree_size) {
          return Fail(response, kBeyondRoot);
        }
        Reply(response,
              LeafJson(entry->value->leaf, *size, entry->value->proof.hashes));
      });

  // The first leaf with a Merkle leaf hash (hex), with its proof.
  router.Get(
      absl::StrCat(kLogPrefix, "leaves"),
      [trees, logs](const http::Request& request, http::Response& response) {
        int64_t log_id = 0;
        absl::SimpleAtoi(request.path_params[0], &log_id);
        if (absl::Status s = PublishesEntries(trees, log_id); !s.ok()) {
          return Fail(response, s);
        }
        const std::string hex = request.QueryParam("hash");
        if (hex.size() != 64 ||
            hex.find_first_not_of("0123456789abcdefABCDEF") !=
                std::string::npos) {
          return Fail(response,
                      absl::InvalidArgumentError("hash must be 64 hex digits"));
        }
        const std::string hash = absl::HexStringToBytes(hex);
        absl::StatusOr<int64_t> size = Number(request, "tree_size");
        if (!size.ok()) return Fail(response, size.status());
        absl::StatusOr<AtHead<std::vector<InclusionProof>>> proofs =
            logs->InclusionProofsByHash(log_id, hash, *size, /*max_proofs=*/1);
        if (!proofs.ok()) return Fail(response, proofs.status());
        if (!proofs->value.has_value() ||
            static_cast<uint64_t>(*size) > proofs->head.root.tree_size) {
          return Fail(response, kBeyondRoot);
        }
        const InclusionProof& proof = proofs->value->front();
        google::protobuf::RepeatedField<int64_t> indices;
        indices.Add(proof.leaf_index);
        absl::StatusOr<AtHead<std::vector<trillian::LogLeaf>>> leaves =
            logs->LeavesByIndex(log_id, indices);
        if (!leaves.ok()) return Fail(response, leaves.status());
        if (!leaves->value.has_value() || leaves->value->empty()) {
          return Fail(response, kBeyondRoot);
        }
        Reply(response, LeafJson(leaves->value->front(), *size, proof.hashes));
      });

  router.Get(
      absl::StrCat(kLogPrefix, "consistency"),
      [logs](const http::Request& request, http::Response& response) {
        int64_t log_id = 0;
        absl::SimpleAtoi(request.path_params[0], &log_id);
        absl::StatusOr<int64_t> first = Number(request, "first");
        absl::StatusOr<int64_t> second = Number(request, "second");
        if (!first.ok()) return Fail(response, first.status());
        if (!second.ok()) return Fail(response, second.status());
        absl::StatusOr<AtHead<std::vector<std::string>>> proof =
            logs->ConsistencyProof(log_id, *first, *second);
        if (!proof.ok()) return Fail(response, proof.status());
        if (!proof->value.has_value() ||
            static_cast<uint64_t>(*second) > proof->head.root.tree_size) {
          return Fail(response, kBeyondRoot);
        }
        Reply(response, {{"first", absl::StrCat(*first)},
                         {"second", absl::StrCat(*second)},
                         {"proof", Hashes(*proof->value)}});
      });

  if (sources.maps != nullptr) AddMapRoute(sources, router);
  AddEvidenceRoute(sources.evidence, router);

  if (files_dir.empty()) {
    router.Get("/explorer/(.*)",
               [](const http::Request&, http::Response& response) {
                 response.status = 404;
                 response.content_type = "text/plain; charset=utf-8";
                 response.body =
                     "The explorer's pages are not built here: run "
                     "scripts/build_explorer.sh and start trellisd with "
                     "--explorer_dir=explorer/dist.\n";
               });
    return absl::OkStatus();
  }
  absl::StatusOr<Files> loaded = LoadFiles(files_dir);
  if (!loaded.ok()) return loaded.status();
  auto files = std::make_shared<const Files>(*std::move(loaded));
  router.Get("/explorer/(assets/[A-Za-z0-9._-]+)?",
             [files](const http::Request& request, http::Response& response) {
               const std::string name =
                   request.path_params.empty() ? "" : request.path_params[0];
               auto it = files->find(name);
               if (it == files->end()) {
                 response.status = 404;
                 response.content_type = "text/plain; charset=utf-8";
                 response.body = "no such file\n";
                 return;
               }
               ServeFile(it->second, /*immutable=*/!name.empty(), response);
             });
  return absl::OkStatus();
}

}  // namespace trellis::explorer
