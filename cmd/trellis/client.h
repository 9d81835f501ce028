// The trellis CLI's connection to trellisd and its shared helpers: exit
// codes, failure reporting, signed-root checking.
#ifndef TRELLIS_CMD_TRELLIS_CLIENT_H_
#define TRELLIS_CMD_TRELLIS_CLIENT_H_

#include <memory>
#include <string>
#include <utility>

#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"
#include "log/log_root.h"
#include "trellis_attest.grpc.pb.h"
#include "trillian_admin_api.grpc.pb.h"
#include "trillian_log_api.grpc.pb.h"
#include "trillian_map_api.grpc.pb.h"

namespace trellis::cli {

// Exit codes.
constexpr int kOk = 0;
constexpr int kInvalid = 1;
constexpr int kUsage = 2;

// Prints "trellis: message" and exits with `code`.
[[noreturn]] void Fail(int code, const std::string& message);
// Fail()s with kInvalid unless `s` is OK.
void Check(const grpc::Status& s, const char* what);
std::string B64(const std::string& s);
// The file's contents, or Fail(kUsage).
std::string ReadFileOrDie(const std::string& path);

struct ClientOptions {
  std::string addr;
  std::string tls_ca;    // Enables TLS.
  std::string tls_cert;  // mTLS.
  std::string tls_key;
  absl::Duration timeout = absl::Seconds(30);
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

  trillian::Tree GetTree(int64_t id);
  // Checks a signed root with the tree's public key and parses it.
  log::LogRootV1 VerifyRoot(const trillian::Tree& tree,
                            const trillian::SignedLogRoot& root);
  // The latest root, signature checked.
  std::pair<trillian::SignedLogRoot, log::LogRootV1> LatestRoot(
      const trillian::Tree& tree);

 private:
  std::unique_ptr<trillian::TrillianAdmin::Stub> admin_;
  std::unique_ptr<trillian::TrillianLog::Stub> log_;
  std::unique_ptr<trillian::TrillianMap::Stub> map_;
  std::unique_ptr<trillian::TrillianMapWrite::Stub> map_write_;
  std::unique_ptr<trellis::AttestationVerifier::Stub> verifier_;
  absl::Duration timeout_;
};

}  // namespace trellis::cli

#endif  // TRELLIS_CMD_TRELLIS_CLIENT_H_
