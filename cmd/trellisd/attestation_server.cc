#include "cmd/trellisd/attestation_server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "attest/api/verifier_http.h"
#include "crypto/self_signed.h"
#include "util/file.h"

namespace trellis {
namespace {

constexpr char kRecordLogSetting[] = "record_log_id";

// The configured certificate, or the self-signed one kept in the data
// directory (made on first start).
absl::StatusOr<std::pair<std::string, std::string>> TlsFiles(
    const AttestationOptions& options, const std::string& data_dir) {
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return absl::InvalidArgumentError(
          "the verifier needs both a TLS certificate and key");
    }
    return std::make_pair(options.tls_cert_file, options.tls_key_file);
  }
  const std::string dir = data_dir + "/verifier-tls";
  const std::string cert = dir + "/cert.pem";
  const std::string key = dir + "/key.pem";
  if (ReadFile(cert).ok() && ReadFile(key).ok())
    return std::make_pair(cert, key);
  mkdir(dir.c_str(), 0700);
  absl::StatusOr<crypto::CertificateAndKey> made =
      crypto::SelfSignedCertificate("trellis verifier");
  if (!made.ok()) return made.status();
  // The key is created 0600 before a byte of it is written; the certificate
  // last, so a crash in between leaves no certificate without its key.
  unlink(key.c_str());
  unlink(cert.c_str());
  if (absl::Status s = WriteNewFile(key, made->private_key_pem); !s.ok()) {
    return s;
  }
  if (absl::Status s = WriteNewFile(cert, made->certificate_pem, 0644);
      !s.ok()) {
    return s;
  }
  return std::make_pair(cert, key);
}

}  // namespace

absl::StatusOr<std::unique_ptr<AttestationServer>> AttestationServer::Start(
    const AttestationOptions& options, const std::string& data_dir,
    storage::rocksdb::Database* db, log::RecordSink* records,
    const std::function<absl::StatusOr<int64_t>()>& create_log,
    const admin::OperatorAuth* operators) {
  auto server = std::unique_ptr<AttestationServer>(new AttestationServer());
  server->storage_ = std::make_unique<storage::rocksdb::RocksAttestStorage>(db);

  server->create_log_ = create_log;
  {
    absl::MutexLock lock(&server->log_mu_);  // Not shared yet; for clang.
    server->record_log_id_ = options.record_log_id;
  }
  absl::StatusOr<std::unique_ptr<attest::Registrar>> registrar =
      attest::Registrar::Create(server->storage_.get(), options.registrar);
  if (!registrar.ok()) return registrar.status();
  server->registrar_ = std::move(*registrar);
  server->nonces_ =
      std::make_unique<attest::NonceStore>(options.nonce_lifetime);
  server->appraiser_ = std::make_unique<attest::Appraiser>(
      server->registrar_.get(), server->nonces_.get(), server->storage_.get(),
      records, [self = server.get()] { return self->RecordLogId(); });
  server->grpc_ = std::make_unique<attest::VerifierGrpcService>(
      server->registrar_.get(), server->appraiser_.get(), server->nonces_.get(),
      [operators](const grpc::ServerContext& context) {
        return operators->IsOperator(context);
      });
  if (options.addr.empty()) return server;

  absl::StatusOr<std::pair<std::string, std::string>> tls =
      TlsFiles(options, data_dir);
  if (!tls.ok()) return tls.status();
  http::ServerOptions http_options = options.http;
  http_options.address = options.addr;
  http_options.tls_cert_file = tls->first;
  http_options.tls_key_file = tls->second;
  // Attestors' certificates (when mTLS is on) and operators' are accepted at
  // the handshake; operator routes check for the operator CA themselves.
  if (!options.tls_client_ca_file.empty()) {
    http_options.client_ca_files.push_back(options.tls_client_ca_file);
    http_options.require_client_certificate = true;
  }
  if (!options.operator_client_ca_file.empty()) {
    http_options.client_ca_files.push_back(options.operator_client_ca_file);
  }
  http::Router router;
  attest::RegisterVerifierRoutes(router, *server->registrar_,
                                 *server->appraiser_, *server->nonces_,
                                 [operators](const http::Request& req) {
                                   return operators->IsOperator(req);
                                 });
  absl::StatusOr<std::unique_ptr<http::Server>> https =
      http::Server::Start(std::move(http_options), std::move(router));
  if (!https.ok()) return https.status();
  server->https_ = std::move(*https);
  return server;
}

absl::StatusOr<int64_t> AttestationServer::RecordLogId() {
  absl::MutexLock lock(&log_mu_);
  if (record_log_id_ != 0) return record_log_id_;
  absl::StatusOr<std::optional<std::string>> kept =
      storage_->GetSetting(kRecordLogSetting);
  if (!kept.ok()) return kept.status();
  int64_t log_id = 0;
  if (kept->has_value() && !absl::SimpleAtoi(**kept, &log_id)) {
    return absl::DataLossError("corrupt record log setting");
  }
  if (log_id == 0) {
    absl::StatusOr<int64_t> created = create_log_();
    if (!created.ok()) return created.status();
    log_id = *created;
    absl::Status s =
        storage_->PutSetting(kRecordLogSetting, absl::StrCat(log_id));
    if (!s.ok()) return s;
  }
  record_log_id_ = log_id;
  return log_id;
}

void AttestationServer::Shutdown() { https_.reset(); }

int AttestationServer::port() const { return https_ ? https_->port() : 0; }

AttestationServer::~AttestationServer() { Shutdown(); }

}  // namespace trellis
