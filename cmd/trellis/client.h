// The trellis CLI's connection to trellisd and its shared helpers: exit
// codes, failure reporting, signed-root checking against pinned keys and
// remembered roots (trust_store.h).
#ifndef TRELLIS_CMD_TRELLIS_CLIENT_H_
#define TRELLIS_CMD_TRELLIS_CLIENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cmd/trellis/map_proof_file.h"
#include "cmd/trellis/trust_store.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "map/map_root.h"
#include "merkle/log_root.h"
#include "trellis_attest.grpc.pb.h"
#include "trillian_admin_api.grpc.pb.h"
#include "trillian_log_api.grpc.pb.h"
#include "trillian_map_api.grpc.pb.h"

namespace trellis::cli {

// Exit codes. An auditor's script treats 1 as evidence against the server,
// so 1 is only for answers that do not hold up, never for "no answer":
//   kOk       0  verified (or done).
//   kInvalid  1  the server answered and the answer is refused: a signature,
//                proof or key that does not verify, a root that is not an
//                extension of the remembered one (split view, rollback), or a
//                definite "no" from the server (NOT_FOUND, INVALID_ARGUMENT,
//                FAILED_PRECONDITION, PERMISSION_DENIED, UNAUTHENTICATED,
//                ALREADY_EXISTS, INTERNAL, ...).
//   kUnusable 2  no verdict: bad usage or input files, an unusable state
//                directory, or a transport failure (IsTransportError: the
//                server or the verifier's HTTPS API not reached or not
//                answering in time).
constexpr int kOk = 0;
constexpr int kInvalid = 1;
constexpr int kUnusable = 2;
constexpr int kUsage = kUnusable;

// Prints "trellis: message" and exits with `code`.
[[noreturn]] void Fail(int code, const std::string& message);

// Failures that say nothing about the data: UNAVAILABLE (cannot connect,
// connection lost, TLS handshake), DEADLINE_EXCEEDED, CANCELLED, ABORTED and
// RESOURCE_EXHAUSTED (retry later), and UNKNOWN (gRPC's code for failures it
// cannot classify, such as a stream broken mid-call; trellisd never answers
// with it).
bool IsTransportError(grpc::StatusCode code);
bool IsTransportError(absl::StatusCode code);
// kUnusable for transport errors, else kInvalid.
int ExitCodeFor(const grpc::Status& s);
int ExitCodeFor(const absl::Status& s);

// Fail()s with ExitCodeFor(s) unless `s` is OK, with the status's name and,
// for failures an operator can act on (server unreachable, operators only,
// quota), what to do.
void Check(const grpc::Status& s, const char* what);
// The server named in those hints (the Client sets it).
void SetServerForHints(const std::string& address);
std::string B64(const std::string& s);
// The file's contents, or Fail(kUsage).
std::string ReadFileOrDie(const std::string& path);

struct ClientOptions {
  std::string addr;
  std::string tls_ca;    // Enables TLS.
  std::string tls_cert;  // mTLS.
  std::string tls_key;
  absl::Duration timeout = absl::Seconds(30);
  // Trust (trust_store.h). Empty state_dir: DefaultStateDir(); empty
  // server_name: addr. log_public_key_file: a PEM or DER public key that
  // pins the key of the tree a command reads; without it the key pinned in
  // the state directory, else the server's on first use.
  std::string state_dir;
  std::string server_name;
  std::string log_public_key_file;
};

class Client {
 public:
  explicit Client(const ClientOptions& options);

  std::unique_ptr<grpc::ClientContext> Context() const;

  trillian::TrillianAdmin::Stub& admin() { return *admin_; }
  trillian::TrillianLog::Stub& log() { return *log_; }
  trillian::TrillianMap::Stub& map() { return *map_; }
  trillian::TrillianMapWrite::Stub& map_write() { return *map_write_; }
  trellis::AttestationVerifier::Stub& verifier() { return *verifier_; }
  // The connection, for services with stubs of their own (SPIRE's API).
  const std::shared_ptr<grpc::Channel>& channel() const { return channel_; }

  // The tree as the server describes it; nothing in it is trusted yet.
  trillian::Tree GetTree(int64_t id);

  // The DER public key this client trusts for `tree` (log or map):
  // --log_public_key, else the key pinned in the state directory, else the
  // server's, pinned now with a warning (trust on first use). Fail()s with
  // kInvalid if the server's Tree.public_key is another key.
  const std::string& TrustedKey(const trillian::Tree& tree);

  // Checks a signed log root with the trusted key, parses it and checks it
  // against the remembered root of the log: a smaller size (rollback), the
  // same size with another hash (split view) or a root the server cannot
  // prove consistent with the remembered one is an alarm (kInvalid). Then
  // remembers it.
  merkle::LogRootV1 VerifyRoot(const trillian::Tree& tree,
                               const trillian::SignedLogRoot& root);
  // The latest root, checked as VerifyRoot does.
  std::pair<trillian::SignedLogRoot, merkle::LogRootV1> LatestRoot(
      const trillian::Tree& tree);

 private:
  StateStore& Store();
  // Checks `root` against the remembered one and remembers it.
  void CheckAndRemember(const trillian::Tree& tree,
                        const merkle::LogRootV1& root);
  [[noreturn]] void Alarm(int64_t tree_id, const std::string& what);

  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<trillian::TrillianAdmin::Stub> admin_;
  std::unique_ptr<trillian::TrillianLog::Stub> log_;
  std::unique_ptr<trillian::TrillianMap::Stub> map_;
  std::unique_ptr<trillian::TrillianMapWrite::Stub> map_write_;
  std::unique_ptr<trellis::AttestationVerifier::Stub> verifier_;
  ClientOptions options_;
  std::optional<StateStore> store_;       // Opened on first use.
  std::map<int64_t, TreeState> trusted_;  // By tree id, once pinned.
};

// A leaf of a log with its inclusion in the latest (checked) signed root
// verified here.
struct ProvenLeaf {
  std::string value;  // Its hash was checked against the proven leaf hash.
  int64_t leaf_index = 0;
  merkle::LogRootV1 root;
  trillian::SignedLogRoot signed_root;
  std::vector<std::string> path;
};

// The leaf of log `log_id` whose Merkle leaf hash is `leaf_hash`, nullopt
// if the log has no such leaf (or not yet integrated). Fail()s with
// kInvalid if its proof or value does not hold up.
std::optional<ProvenLeaf> FindProvenLeaf(Client& client, int64_t log_id,
                                         const std::string& leaf_hash);
// The same, Fail()ing with kInvalid if there is no such leaf.
ProvenLeaf FetchProvenLeaf(Client& client, int64_t log_id,
                           const std::string& leaf_hash);

// The one tree of `type` named `name` (the role trees trellisd makes:
// trellis-attestations, trellis-issuance, trellis-identities). Fail()s with
// kUsage, naming `flag` as the way out, if there is none or several.
int64_t FindTree(Client& client, trillian::TreeType type,
                 const std::string& name, const std::string& flag);

// The signed map root, its signature checked with the map's pinned key.
map::MapRootV1 VerifyMapRoot(Client& client, const trillian::Tree& tree,
                             const trillian::SignedMapRoot& root);

// The leaf at `index` of map `tree` at `revision` (-1: latest) with its
// inclusion proof, verified here against the signed root. Fail()s with
// kInvalid if the proof or the root's signature does not hold.
MapProofFile FetchProvenMapLeaf(Client& client, const trillian::Tree& tree,
                                const std::string& index, int64_t revision);

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_CLIENT_H_
