#include "cmd/trellis/client.h"

#include <cstdio>
#include <cstdlib>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crypto/signer.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "util/file.h"

namespace trellis::cli {

void Fail(int code, const std::string& message) {
  std::fprintf(stderr, "trellis: %s\n", message.c_str());
  std::exit(code);
}

void Check(const grpc::Status& s, const char* what) {
  if (!s.ok()) {
    Fail(kInvalid, absl::StrCat(what, ": ", s.error_message(), " (code ",
                                s.error_code(), ")"));
  }
}

std::string B64(const std::string& s) { return absl::Base64Escape(s); }

std::string ReadFileOrDie(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) Fail(kUsage, std::string(content.status().message()));
  return *content;
}

Client::Client(const ClientOptions& options) : timeout_(options.timeout) {
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
  auto channel = grpc::CreateCustomChannel(options.addr, credentials, args);
  admin_ = trillian::TrillianAdmin::NewStub(channel);
  log_ = trillian::TrillianLog::NewStub(channel);
  map_ = trillian::TrillianMap::NewStub(channel);
  map_write_ = trillian::TrillianMapWrite::NewStub(channel);
  verifier_ = trellis::AttestationVerifier::NewStub(channel);
}

std::unique_ptr<grpc::ClientContext> Client::Context() const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return context;
}

trillian::Tree Client::GetTree(int64_t id) {
  trillian::GetTreeRequest request;
  request.set_tree_id(id);
  trillian::Tree tree;
  Check(admin_->GetTree(Context().get(), request, &tree), "GetTree");
  return tree;
}

log::LogRootV1 Client::VerifyRoot(const trillian::Tree& tree,
                                  const trillian::SignedLogRoot& root) {
  absl::Status s = crypto::VerifySignature(
      tree.public_key().der(), root.log_root(), root.log_root_signature());
  if (!s.ok()) Fail(kInvalid, "log root signature: " + s.ToString());
  absl::StatusOr<log::LogRootV1> parsed = log::ParseLogRoot(root.log_root());
  if (!parsed.ok()) Fail(kInvalid, "log root: " + parsed.status().ToString());
  return *parsed;
}

std::pair<trillian::SignedLogRoot, log::LogRootV1> Client::LatestRoot(
    const trillian::Tree& tree) {
  trillian::GetLatestSignedLogRootRequest request;
  request.set_log_id(tree.tree_id());
  trillian::GetLatestSignedLogRootResponse response;
  Check(log_->GetLatestSignedLogRoot(Context().get(), request, &response),
        "GetLatestSignedLogRoot");
  return {response.signed_log_root(),
          VerifyRoot(tree, response.signed_log_root())};
}

}  // namespace trellis::cli
