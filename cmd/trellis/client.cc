#include "cmd/trellis/client.h"

#include <cstdio>
#include <cstdlib>
#include <tuple>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crypto/signer.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "merkle/hasher.h"
#include "merkle/verifier.h"
#include "util/file.h"

namespace trellis::cli {
namespace {

std::string FormatNanos(uint64_t nanos) {
  return absl::FormatTime(absl::RFC3339_sec,
                          absl::FromUnixNanos(static_cast<int64_t>(nanos)),
                          absl::UTCTimeZone());
}

}  // namespace

void Fail(int code, const std::string& message) {
  std::fprintf(stderr, "trellis: %s\n", message.c_str());
  std::exit(code);
}

bool IsTransportError(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::CANCELLED:
    case grpc::StatusCode::ABORTED:
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
    case grpc::StatusCode::UNKNOWN:
      return true;
    default:
      return false;
  }
}

bool IsTransportError(absl::StatusCode code) {
  // gRPC and absl share the canonical code numbers.
  return IsTransportError(static_cast<grpc::StatusCode>(code));
}

int ExitCodeFor(const grpc::Status& s) {
  return IsTransportError(s.error_code()) ? kUnusable : kInvalid;
}

int ExitCodeFor(const absl::Status& s) {
  return IsTransportError(s.code()) ? kUnusable : kInvalid;
}

namespace {

// The server this run talks to, for the hints below.
std::string& ServerAddress() {
  static std::string* const address = new std::string;
  return *address;
}

const char* CodeName(grpc::StatusCode code) {
  static const char* const kNames[] = {"OK",
                                       "CANCELLED",
                                       "UNKNOWN",
                                       "INVALID_ARGUMENT",
                                       "DEADLINE_EXCEEDED",
                                       "NOT_FOUND",
                                       "ALREADY_EXISTS",
                                       "PERMISSION_DENIED",
                                       "RESOURCE_EXHAUSTED",
                                       "FAILED_PRECONDITION",
                                       "ABORTED",
                                       "OUT_OF_RANGE",
                                       "UNIMPLEMENTED",
                                       "INTERNAL",
                                       "UNAVAILABLE",
                                       "DATA_LOSS",
                                       "UNAUTHENTICATED"};
  const int index = static_cast<int>(code);
  return index >= 0 && index < 17 ? kNames[index] : "UNKNOWN";
}

// What to do about a failure, where there is something to do.
std::string Hint(grpc::StatusCode code) {
  const std::string& server = ServerAddress();
  switch (code) {
    case grpc::StatusCode::UNAVAILABLE:
      return absl::StrCat(
          "cannot reach trellisd at ", server,
          ". Is it running (./scripts/start.sh, or systemctl status "
          "trellisd)? Point the CLI at it with --addr=HOST:PORT, or "
          "--addr=unix:DATA_DIR/operator.sock on its machine.");
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "no answer within --timeout; the server may be busy: retry, or "
             "raise --timeout.";
    case grpc::StatusCode::PERMISSION_DENIED:
    case grpc::StatusCode::UNAUTHENTICATED:
      return "this needs an operator: on the server's machine use its "
             "operator socket (--data_dir=DATA_DIR finds it, or "
             "--addr=unix:DATA_DIR/operator.sock) as a user who may open it, "
             "or pass --tls_cert/--tls_key with an operator certificate.";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "the server refused for now (a quota or a full queue): retry "
             "later.";
    default:
      return "";
  }
}

}  // namespace

void SetServerForHints(const std::string& address) {
  ServerAddress() = address;
}

void Check(const grpc::Status& s, const char* what) {
  if (s.ok()) return;
  std::string message = absl::StrCat(what, ": ", s.error_message(), " (",
                                     CodeName(s.error_code()), ")");
  if (const std::string hint = Hint(s.error_code()); !hint.empty()) {
    absl::StrAppend(&message, "\n  ", hint);
  }
  Fail(ExitCodeFor(s), message);
}

std::string B64(const std::string& s) { return absl::Base64Escape(s); }

std::string ReadFileOrDie(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) Fail(kUsage, std::string(content.status().message()));
  return *content;
}

Client::Client(const ClientOptions& options) : options_(options) {
  if (options_.server_name.empty()) options_.server_name = options_.addr;
  SetServerForHints(options_.addr);
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  if (options.tls_ca.empty()) {
    credentials = grpc::InsecureChannelCredentials();
  } else {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadFileOrDie(options.tls_ca);
    if (!options.tls_cert.empty()) {
      ssl.pem_cert_chain = ReadFileOrDie(options.tls_cert);
      ssl.pem_private_key = ReadFileOrDie(options.tls_key);
    }
    credentials = grpc::SslCredentials(ssl);
  }
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 << 20);
  channel_ = grpc::CreateCustomChannel(options.addr, credentials, args);
  admin_ = trillian::TrillianAdmin::NewStub(channel_);
  log_ = trillian::TrillianLog::NewStub(channel_);
  map_ = trillian::TrillianMap::NewStub(channel_);
  map_write_ = trillian::TrillianMapWrite::NewStub(channel_);
  verifier_ = trellis::AttestationVerifier::NewStub(channel_);
}

std::unique_ptr<grpc::ClientContext> Client::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + options_.timeout));
  return context;
}

trillian::Tree Client::GetTree(int64_t id) {
  trillian::GetTreeRequest request;
  request.set_tree_id(id);
  trillian::Tree tree;
  Check(admin_->GetTree(Context().get(), request, &tree), "GetTree");
  return tree;
}

StateStore& Client::Store() {
  if (!store_.has_value()) {
    std::string dir = options_.state_dir;
    if (dir.empty()) {
      absl::StatusOr<std::string> default_dir = DefaultStateDir();
      if (!default_dir.ok()) {
        Fail(kUsage, std::string(default_dir.status().message()));
      }
      dir = *default_dir;
    }
    store_.emplace(dir, options_.server_name);
  }
  return *store_;
}

const std::string& Client::TrustedKey(const trillian::Tree& tree) {
  const int64_t id = tree.tree_id();
  const std::string where =
      absl::StrCat("tree ", id, " at ", options_.server_name);
  absl::StatusOr<std::string> served =
      CanonicalPublicKey(tree.public_key().der());
  if (!served.ok()) {
    Fail(kInvalid,
         absl::StrCat(where, ": the server's public key is unusable: ",
                      served.status().message()));
  }
  auto it = trusted_.find(id);
  if (it == trusted_.end()) {
    StateStore& store = Store();
    const std::string path = store.PathFor(id);
    absl::StatusOr<std::optional<TreeState>> stored = store.Load(id);
    if (!stored.ok()) {
      Fail(kUsage,
           absl::StrCat("unusable state file: ", stored.status().message()));
    }
    std::optional<std::string> stored_key;
    if (stored->has_value()) {
      absl::StatusOr<std::string> key =
          CanonicalPublicKey((*stored)->public_key_der);
      if (!key.ok()) {
        Fail(kUsage, absl::StrCat("unusable state file ", path, ": ",
                                  key.status().message()));
      }
      stored_key = *key;
    }
    const std::string& flag = options_.log_public_key_file;
    std::string pinned;
    std::string source;
    if (!flag.empty()) {
      absl::StatusOr<std::string> key = CanonicalPublicKey(ReadFileOrDie(flag));
      if (!key.ok()) {
        Fail(kUsage, absl::StrCat(flag, ": ", key.status().message()));
      }
      pinned = *key;
      source = "--log_public_key=" + flag;
    } else if (stored_key.has_value()) {
      pinned = *stored_key;
      source = path;
    } else {
      // Trust on first use: this run can only notice later changes.
      pinned = *served;
      std::fprintf(
          stderr,
          "trellis: warning: first use of %s: trusting the public key it "
          "serves (SHA-256 %s) and pinning it in %s. To check it instead, "
          "pass --log_public_key=FILE with the key obtained out of band.\n",
          where.c_str(), KeyFingerprint(pinned).c_str(), path.c_str());
    }
    if (*served != pinned) {
      Fail(kInvalid,
           absl::StrCat(where, ": the server's public key (SHA-256 ",
                        KeyFingerprint(*served),
                        ") is not the pinned key (SHA-256 ",
                        KeyFingerprint(pinned), ", from ", source,
                        "): refusing its roots",
                        source == path ? ". If the tree's key changed "
                                         "legitimately, remove that file to "
                                         "pin the new key."
                                       : "."));
    }
    if (stored_key.has_value() && *stored_key != pinned) {
      Fail(kUsage, absl::StrCat(path, " pins another key (SHA-256 ",
                                KeyFingerprint(*stored_key), ") than ", source,
                                ": remove it to pin the new key"));
    }
    TreeState state;
    if (stored->has_value()) state = std::move(**stored);
    state.public_key_der = pinned;
    if (!stored->has_value()) {
      if (absl::Status s = store.Save(id, state); !s.ok()) {
        Fail(kUsage, absl::StrCat("cannot pin the key of ", where, ": ",
                                  s.message(), " (see --state_dir)"));
      }
    }
    it = trusted_.emplace(id, std::move(state)).first;
  } else if (*served != it->second.public_key_der) {
    Fail(kInvalid, absl::StrCat(where, ": the server changed its public key"));
  }
  return it->second.public_key_der;
}

merkle::LogRootV1 Client::VerifyRoot(const trillian::Tree& tree,
                                     const trillian::SignedLogRoot& root) {
  absl::Status s = crypto::VerifySignature(TrustedKey(tree), root.log_root(),
                                           root.log_root_signature());
  if (!s.ok()) Fail(kInvalid, "log root signature: " + s.ToString());
  absl::StatusOr<merkle::LogRootV1> parsed =
      merkle::ParseLogRoot(root.log_root());
  if (!parsed.ok()) Fail(kInvalid, "log root: " + parsed.status().ToString());
  CheckAndRemember(tree, *parsed);
  return *parsed;
}

std::pair<trillian::SignedLogRoot, merkle::LogRootV1> Client::LatestRoot(
    const trillian::Tree& tree) {
  // Pin (and read the remembered root) before fetching, so that a newer
  // root remembered meanwhile by a concurrent run is no false rollback.
  TrustedKey(tree);
  trillian::GetLatestSignedLogRootRequest request;
  request.set_log_id(tree.tree_id());
  trillian::GetLatestSignedLogRootResponse response;
  Check(log_->GetLatestSignedLogRoot(Context().get(), request, &response),
        "GetLatestSignedLogRoot");
  return {response.signed_log_root(),
          VerifyRoot(tree, response.signed_log_root())};
}

void Client::Alarm(int64_t tree_id, const std::string& what) {
  const std::string path = Store().PathFor(tree_id);
  Fail(kInvalid,
       absl::StrCat(
           "ALARM: ", what, "\n  tree ", tree_id, " at ", options_.server_name,
           "; the last verified root is remembered in ", path,
           "\n  The server shows this client a log that is not an extension "
           "of the one it showed before: a split view (different logs for "
           "different clients) or a rollback. Keep ",
           path,
           " as evidence; remove it only if the log was deliberately "
           "reset."));
}

void Client::CheckAndRemember(const trillian::Tree& tree,
                              const merkle::LogRootV1& root) {
  const int64_t id = tree.tree_id();
  TreeState& state = trusted_.at(id);  // VerifyRoot pinned it.
  if (state.root.has_value()) {
    const RememberedRoot& old = *state.root;
    if (root.tree_size < old.tree_size) {
      Alarm(id, absl::StrCat("rollback: the server's root has tree size ",
                             root.tree_size, ", smaller than the size ",
                             old.tree_size, " verified before (root ",
                             B64(old.root_hash), ", signed ",
                             FormatNanos(old.timestamp_nanos), ")"));
    }
    if (root.tree_size == old.tree_size) {
      if (root.root_hash != old.root_hash) {
        Alarm(id, absl::StrCat("split view: the server's root for tree size ",
                               root.tree_size, " is ", B64(root.root_hash),
                               ", but this client verified ",
                               B64(old.root_hash), " for that size (signed ",
                               FormatNanos(old.timestamp_nanos), ")"));
      }
      return;  // Nothing new to remember.
    }
    // Every tree extends the empty one: nothing to prove from size 0.
    if (old.tree_size > 0) {
      trillian::GetConsistencyProofRequest request;
      request.set_log_id(id);
      request.set_first_tree_size(old.tree_size);
      request.set_second_tree_size(root.tree_size);
      trillian::GetConsistencyProofResponse response;
      const grpc::Status s =
          log_->GetConsistencyProof(Context().get(), request, &response);
      if (!s.ok() && IsTransportError(s.error_code())) {
        Check(s, "GetConsistencyProof");
      }
      if (!s.ok()) {
        Alarm(id, absl::StrCat("the server does not prove that its root of "
                               "tree size ",
                               root.tree_size, " extends the one of size ",
                               old.tree_size,
                               " verified before: ", s.error_message()));
      }
      const std::vector<std::string> proof(response.proof().hashes().begin(),
                                           response.proof().hashes().end());
      if (absl::Status v =
              merkle::VerifyConsistency(old.tree_size, root.tree_size,
                                        old.root_hash, root.root_hash, proof);
          !v.ok()) {
        Alarm(id, absl::StrCat("split view: the server's root of tree size ",
                               root.tree_size, " (", B64(root.root_hash),
                               ") is not an extension of the root of size ",
                               old.tree_size, " (", B64(old.root_hash),
                               ") verified before: ", v.message()));
      }
    }
  }
  state.root =
      RememberedRoot{root.tree_size, root.root_hash, root.timestamp_nanos};
  // A concurrent run may have remembered a newer root meanwhile: keep it.
  absl::StatusOr<std::optional<TreeState>> on_disk = Store().Load(id);
  if (on_disk.ok() && on_disk->has_value() && (*on_disk)->root.has_value() &&
      (*on_disk)->root->tree_size >= root.tree_size) {
    return;
  }
  if (absl::Status s = Store().Save(id, state); !s.ok()) {
    Fail(kUsage, absl::StrCat("cannot remember the verified root: ",
                              s.message(), " (see --state_dir)"));
  }
}

std::optional<ProvenLeaf> FindProvenLeaf(Client& client, int64_t log_id,
                                         const std::string& leaf_hash) {
  const trillian::Tree tree = client.GetTree(log_id);
  ProvenLeaf out;
  std::tie(out.signed_root, out.root) = client.LatestRoot(tree);
  trillian::GetInclusionProofByHashRequest request;
  request.set_log_id(log_id);
  request.set_leaf_hash(leaf_hash);
  request.set_tree_size(out.root.tree_size);
  trillian::GetInclusionProofByHashResponse response;
  const grpc::Status s = client.log().GetInclusionProofByHash(
      client.Context().get(), request, &response);
  if (s.error_code() == grpc::StatusCode::NOT_FOUND ||
      (s.ok() && response.proof().empty())) {
    return std::nullopt;
  }
  Check(s, "GetInclusionProofByHash");
  const trillian::Proof& proof = response.proof(0);
  out.leaf_index = proof.leaf_index();
  out.path.assign(proof.hashes().begin(), proof.hashes().end());
  if (absl::Status v =
          merkle::VerifyInclusion(proof.leaf_index(), out.root.tree_size,
                                  leaf_hash, out.path, out.root.root_hash);
      !v.ok()) {
    Fail(kInvalid,
         "the log's inclusion proof does not verify: " + v.ToString());
  }
  trillian::GetLeavesByHashRequest leaves_request;
  leaves_request.set_log_id(log_id);
  leaves_request.add_leaf_hash(leaf_hash);
  trillian::GetLeavesByHashResponse leaves;
  Check(client.log().GetLeavesByHash(client.Context().get(), leaves_request,
                                     &leaves),
        "GetLeavesByHash");
  // Hash the value ourselves: the value must be what the proof covers.
  if (leaves.leaves().empty() ||
      merkle::HashLeaf(leaves.leaves(0).leaf_value()) != leaf_hash) {
    Fail(kInvalid, "the log returned a leaf other than the proven one");
  }
  out.value = leaves.leaves(0).leaf_value();
  return out;
}

ProvenLeaf FetchProvenLeaf(Client& client, int64_t log_id,
                           const std::string& leaf_hash) {
  std::optional<ProvenLeaf> proven = FindProvenLeaf(client, log_id, leaf_hash);
  if (!proven) {
    Fail(kInvalid, "no such record in the log (or not yet integrated)");
  }
  return *std::move(proven);
}

int64_t FindTree(Client& client, trillian::TreeType type,
                 const std::string& name, const std::string& flag) {
  trillian::ListTreesRequest request;
  trillian::ListTreesResponse response;
  Check(client.admin().ListTrees(client.Context().get(), request, &response),
        "ListTrees");
  int64_t found = 0;
  for (const trillian::Tree& tree : response.tree()) {
    if (tree.tree_type() == type && tree.display_name() == name) {
      if (found != 0)
        Fail(kUsage, absl::StrCat("several ", name, ": use ", flag));
      found = tree.tree_id();
    }
  }
  if (found == 0) Fail(kUsage, absl::StrCat("no ", name, " tree: use ", flag));
  return found;
}

map::MapRootV1 VerifyMapRoot(Client& client, const trillian::Tree& tree,
                             const trillian::SignedMapRoot& root) {
  absl::Status s = crypto::VerifySignature(client.TrustedKey(tree),
                                           root.map_root(), root.signature());
  if (!s.ok()) Fail(kInvalid, "map root signature: " + s.ToString());
  absl::StatusOr<map::MapRootV1> parsed = map::ParseMapRoot(root.map_root());
  if (!parsed.ok()) Fail(kInvalid, "map root: " + parsed.status().ToString());
  return *parsed;
}

MapProofFile FetchProvenMapLeaf(Client& client, const trillian::Tree& tree,
                                const std::string& index, int64_t revision) {
  trillian::GetMapLeafResponse response;
  if (revision < 0) {
    trillian::GetMapLeafRequest request;
    request.set_map_id(tree.tree_id());
    request.set_index(index);
    Check(client.map().GetLeaf(client.Context().get(), request, &response),
          "GetLeaf");
  } else {
    trillian::GetMapLeafByRevisionRequest request;
    request.set_map_id(tree.tree_id());
    request.set_index(index);
    request.set_revision(revision);
    Check(client.map().GetLeafByRevision(client.Context().get(), request,
                                         &response),
          "GetLeafByRevision");
  }
  const map::MapRootV1 root = VerifyMapRoot(client, tree, response.map_root());
  MapProofFile file;
  file.map_id = tree.tree_id();
  file.strategy = tree.hash_strategy();
  file.leaf = response.map_leaf_inclusion().leaf();
  file.leaf.clear_extra_data();
  file.root = root.root_hash;
  file.revision = root.revision;
  file.proof.assign(response.map_leaf_inclusion().inclusion().begin(),
                    response.map_leaf_inclusion().inclusion().end());
  file.map_root = response.map_root().map_root();
  file.signature = response.map_root().signature();
  file.public_key = client.TrustedKey(tree);
  if (absl::Status s = VerifyMapProofFile(file); !s.ok()) {
    Fail(kInvalid, "server's map proof does not verify: " + s.ToString());
  }
  return file;
}

}  // namespace trellis::cli
